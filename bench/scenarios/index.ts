// Every benchmark row, in run order. To add a row: write bench/scenarios/NAME.ts exporting a Scenario and
// list it here; `baseline` names the row it is compared with (default "direct").
import type { Scenario } from "../scenario.js";
import { direct } from "./direct.js";
import { sidecar, sidecarRef } from "./sidecar.js";
import { pair } from "./pair.js";
import { nginx } from "./nginx.js";
import { haproxy } from "./haproxy.js";
import { httpProxy } from "./http-proxy.js";
import { startup } from "./startup.js";
import { telemetryFull, telemetryOff } from "./telemetry.js";
import { routesAndLimit } from "./traffic.js";
import { mtlsPair } from "./mtls.js";

export const SCENARIOS: Scenario[] = [direct, sidecar, sidecarRef, pair, nginx, haproxy, httpProxy, telemetryOff, telemetryFull, routesAndLimit, mtlsPair, startup];
