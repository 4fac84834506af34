-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/), by
-- psql as the superuser. Each Botram service gets a role and a database of its own: the role
-- may connect to that database only, and owns its schema (`public`) there, where the service's
-- migrations create its tables at start-up. No service reaches another's tables: reporting and
-- the notifier never see the registry's NIKs, names and phones. The passwords come from the
-- container's environment (docker-compose.yml requires them; psql 15+ `\getenv`).
-- tests/deploy/test_postgres_roles.py runs this file against a real PostgreSQL.
\set ON_ERROR_STOP on

\getenv scheduler_password BOTRAM_SCHEDULER_DATABASE_PASSWORD
\getenv registry_password BOTRAM_REGISTRY_DATABASE_PASSWORD
\getenv notifier_password BOTRAM_NOTIFIER_DATABASE_PASSWORD
\getenv reporting_password BOTRAM_REPORTING_DATABASE_PASSWORD

-- Every role may connect to a new database unless told otherwise (PUBLIC): not to these.
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;

CREATE ROLE scheduler LOGIN PASSWORD :'scheduler_password';
CREATE DATABASE scheduler;
REVOKE ALL ON DATABASE scheduler FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE scheduler TO scheduler;
\connect scheduler
ALTER SCHEMA public OWNER TO scheduler;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE ROLE registry LOGIN PASSWORD :'registry_password';
CREATE DATABASE registry;
REVOKE ALL ON DATABASE registry FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE registry TO registry;
\connect registry
ALTER SCHEMA public OWNER TO registry;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE ROLE notifier LOGIN PASSWORD :'notifier_password';
CREATE DATABASE notifier;
REVOKE ALL ON DATABASE notifier FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE notifier TO notifier;
\connect notifier
ALTER SCHEMA public OWNER TO notifier;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE ROLE reporting LOGIN PASSWORD :'reporting_password';
CREATE DATABASE reporting;
REVOKE ALL ON DATABASE reporting FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE reporting TO reporting;
\connect reporting
ALTER SCHEMA public OWNER TO reporting;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
