// The list of commands. Each feature adds its module's register function here.
import type { Command } from "commander";
import { register as sidecar } from "./sidecar.js";
import { register as validate } from "./validate.js";
import { register as schema } from "./schema.js";
import { register as demo } from "./demo.js";
import { register as ca } from "./ca.js";
import { register as collector } from "./collector.js";

export const COMMANDS: ((program: Command) => void)[] = [sidecar, validate, schema, demo, ca, collector];
