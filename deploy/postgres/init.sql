-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/),
-- as POSTGRES_USER (botram). Each Botram service owns a database of its own; the services
-- create their tables themselves (Alembic migrations at start-up).
CREATE DATABASE scheduler OWNER botram;
CREATE DATABASE registry OWNER botram;
CREATE DATABASE notifier OWNER botram;
CREATE DATABASE reporting OWNER botram;
