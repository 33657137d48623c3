// The list of commands. Each feature adds its module's register function here.
import type { Command } from "commander";
import { register as sidecar } from "./sidecar.js";
import { register as validate } from "./validate.js";
import { register as schema } from "./schema.js";
import { register as demo } from "./demo.js";
import { register as ca } from "./ca.js";
import { register as collector } from "./collector.js";
import { register as controlPlane } from "./control-plane.js";
import { register as apply } from "./apply.js";
import { register as get } from "./get.js";
import { register as del } from "./delete.js";
import { register as history } from "./history.js";
import { register as diff } from "./diff.js";
import { register as rollback } from "./rollback.js";
import { register as status } from "./status.js";
import { register as audit } from "./audit.js";
import { register as token } from "./token.js";
import { register as inject } from "./inject.js";
import { register as probe } from "./probe.js";
import { register as explain } from "./explain.js";

export const COMMANDS: ((program: Command) => void)[] = [sidecar, validate, schema, demo, ca, collector, controlPlane, apply, get, del, history, diff, rollback, status, audit, token, inject, probe, explain];
