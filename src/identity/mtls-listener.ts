// The inbound listener's server when the sidecar has a workload identity: one port that takes mTLS and, in
// permissive mode, plaintext too, told apart by the first byte (0x16 = a TLS handshake record). Verified peers
// carry their SPIFFE ID on the socket (`outriggerIdentity`), which the listener puts on Exchange.peer.identity.
// The certificate swaps with server.setSecureContext: established connections keep theirs, new ones get the new one.
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ListenerServerFactory } from "../sidecar/listener.js";
import type { MtlsMode } from "../config/compile/security.js";
import { MeshError } from "../errors.js";
import { ALPN, TLS_POLICY } from "./tls-policy.js";
import { parseSpiffeId, spiffeIdFromAltNames } from "./spiffe.js";
import type { IdentityMaterial, WorkloadIdentity } from "./workload.js";

const TLS_HANDSHAKE = 0x16;

export type ConnectionResult = "mtls" | "plaintext" | "rejected_plaintext" | "rejected_identity" | "handshake_failed";

export interface MtlsListenerOptions {
  identity: WorkloadIdentity;
  /** Read per connection so a config swap changes the mode for new connections. */
  mode(): MtlsMode;
  trustDomain(): string;
  onConnection?(result: ConnectionResult, detail?: string): void;
}

export const serverTlsOptions = (m: IdentityMaterial) => ({ key: m.key, cert: m.cert, ca: m.ca, ...TLS_POLICY });

export function mtlsListener(o: MtlsListenerOptions): ListenerServerFactory {
  return {
    createServer(handler, options) {
      const plain = http.createServer(options, handler);
      const m = o.identity.current();
      const secure = https.createServer({ ...options, ...(m ? serverTlsOptions(m) : TLS_POLICY), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ALPN }, handler);
      secure.maxHeadersCount = 0;
      o.identity.onRotate((next) => secure.setSecureContext(serverTlsOptions(next)));

      // The chain is verified by OpenSSL (rejectUnauthorized); the SPIFFE ID must also be of this trust domain.
      secure.prependListener("secureConnection", (s: TLSSocket) => {
        const id = spiffeIdFromAltNames(s.getPeerCertificate().subjectaltname);
        if (!id || parseSpiffeId(id)?.trustDomain !== o.trustDomain()) {
          o.onConnection?.("rejected_identity", id ?? "no SPIFFE ID");
          s.destroy();
          return;
        }
        (s as TLSSocket & { outriggerIdentity?: string }).outriggerIdentity = id;
        o.onConnection?.("mtls");
      });
      secure.on("tlsClientError", (err: NodeJS.ErrnoException) => o.onConnection?.("handshake_failed", err.code ?? err.message));
      // The Listener registers its handlers on the listening server; the TLS side forwards them.
      secure.on("clientError", (err, socket) => (plain.listenerCount("clientError") ? plain.emit("clientError", err, socket) : socket.destroy()));
      secure.on("upgrade", (req, socket, head) => plain.emit("upgrade", req, socket, head));

      const httpConnection = plain.listeners("connection") as ((s: Socket) => void)[];
      plain.removeAllListeners("connection");
      plain.on("connection", (socket: Socket) => {
        const deadline = setTimeout(() => socket.destroy(), options.headersTimeout ?? 30_000).unref();
        socket.once("close", () => clearTimeout(deadline));
        socket.once("data", (first: Buffer) => {
          clearTimeout(deadline);
          socket.pause();
          socket.unshift(first);
          // TLS: the TLSSocket reads the buffered ClientHello itself (resuming here would hand it to no one).
          if (first[0] === TLS_HANDSHAKE) secure.emit("connection", socket);
          else if (o.mode() === "strict") rejectPlaintext(socket, o);
          else {
            o.onConnection?.("plaintext");
            for (const l of httpConnection) l.call(plain, socket);
            socket.resume(); // node:http reads through 'data'; the unshifted bytes come first
          }
        });
      });
      const closeIdle = plain.closeIdleConnections.bind(plain);
      plain.closeIdleConnections = () => {
        closeIdle();
        secure.closeIdleConnections();
      };
      plain.once("close", () => secure.close());
      return plain;
    },
  };
}

function rejectPlaintext(socket: Socket, o: MtlsListenerOptions): void {
  o.onConnection?.("rejected_plaintext");
  const err = new MeshError("MTLS_REQUIRED");
  const body = JSON.stringify(err.toJSON());
  socket.end(`HTTP/1.1 ${err.status} Forbidden\r\nconnection: close\r\ncontent-type: application/json\r\nx-outrigger-error: ${err.code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.resume(); // drain what the client sent so the close is clean
}
