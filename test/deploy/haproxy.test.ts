// The haproxy recipe of docs/DEPLOY.md (deploy/proxies/), run as it is: see proxy-suite.ts.
import { proxySuite } from "./proxy-suite.js";

proxySuite("haproxy");
