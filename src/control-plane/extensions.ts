// Extensions every control plane runs, in order (their authenticators are tried in this order).
// identity (certificates, mTLS) and k8s (admission webhook, TokenReview) add theirs here.
import type { ControlPlaneExtensionFactory } from "./extension.js";
import { k8sExtension } from "../k8s/extension.js";

export const EXTENSIONS: ControlPlaneExtensionFactory[] = [k8sExtension()];
