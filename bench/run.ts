// `npm run bench`: placeholder entry; the data-plane benchmark lands here.
process.stdout.write("bench: no scenarios yet\n");
