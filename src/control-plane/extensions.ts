// Extensions every control plane runs, in order (their authenticators are tried in this order).
// identity (certificates, mTLS) and k8s (admission webhook, TokenReview) add theirs here.
// k8s first: a mounted serving certificate (OUTRIGGER_TLS_CERT_FILE) wins over the mesh-CA one.
import type { ControlPlaneExtensionFactory } from "./extension.js";
import { k8sExtension } from "../k8s/extension.js";
import { identityExtension } from "../identity/control-plane.js";

export const EXTENSIONS: ControlPlaneExtensionFactory[] = [k8sExtension(), identityExtension];
