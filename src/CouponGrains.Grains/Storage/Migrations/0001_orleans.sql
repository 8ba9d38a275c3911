-- 0001_orleans.sql
-- Schema objects required by Microsoft Orleans 10.4.2 ADO.NET providers
-- (Invariant "Npgsql") on PostgreSQL 15+:
--   * OrleansQuery        : the query catalogue every ADO.NET provider reads at start-up
--   * grain persistence   : OrleansStorage + WriteToStorageKey / ReadFromStorageKey / ClearStorageKey
--   * clustering          : OrleansMembershipVersionTable / OrleansMembershipTable + 9 query keys
-- Reminders, streaming and the grain directory are not used and not created here.
--
-- The script is idempotent: it is executed on every start (as one multi-statement
-- command inside a transaction, under an advisory lock held by the migration runner).
-- Plain SQL only, no psql meta-commands.
--
-- Contract notes (verified against the Orleans AdoNet sources):
--   * Orleans binds parameters by name without a prefix ("GrainIdHash", ...) and the
--     query texts reference them as @Name; Npgsql rewrites @Name to positional
--     placeholders. Parameter names must match exactly.
--   * Orleans reads result columns by name through IDataRecord.GetOrdinal. Unquoted
--     identifiers fold to lower case in PostgreSQL, so every result column Orleans
--     reads is aliased with a quoted, exactly-cased name ("PayloadBinary", "Version", ...).
--   * DateTime parameters are sent as UTC (DbType.DateTime -> timestamptz in Npgsql 6+),
--     so all time columns and function arguments are timestamptz.
--   * All names are unqualified and resolve through search_path.

---------------------------------------------------------------------------------------
-- Query catalogue
---------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL,
    QueryText varchar(8000) NOT NULL,
    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

---------------------------------------------------------------------------------------
-- Grain persistence
---------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    grainidhash            integer      NOT NULL,
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    graintypehash          integer      NOT NULL,
    graintypestring        varchar(512) NOT NULL,
    grainidextensionstring varchar(512) NULL,
    serviceid              varchar(150) NOT NULL,
    payloadbinary          bytea        NULL,
    modifiedon             timestamptz  NOT NULL DEFAULT now(),
    version                integer      NULL
);

-- One row per grain-state identity. grainidextensionstring is NULL for Guid/long keys
-- without extension, hence NULLS NOT DISTINCT (PostgreSQL 15+). The leading
-- (grainidhash, ...) columns also serve every lookup Orleans issues.
CREATE UNIQUE INDEX IF NOT EXISTS ux_orleansstorage_identity
    ON OrleansStorage (grainidhash, grainidn0, grainidn1, graintypehash,
                       graintypestring, grainidextensionstring, serviceid)
    NULLS NOT DISTINCT;

-- Optimistic write.
--   version given     : update the row whose stored version equals it, returning version + 1;
--                       if no such row, return the given version unchanged (=> conflict).
--   version NULL      : insert a first row with version 1 if none exists; if a row already
--                       exists return NULL, i.e. the unchanged version (=> conflict).
CREATE OR REPLACE FUNCTION cg_orleans_write_storage(
    p_grainidhash            integer,
    p_grainidn0              bigint,
    p_grainidn1              bigint,
    p_graintypehash          integer,
    p_graintypestring        text,
    p_grainidextensionstring text,
    p_serviceid              text,
    p_grainstateversion      integer,
    p_payloadbinary          bytea)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $body$
DECLARE
    v_new integer;
BEGIN
    IF p_grainstateversion IS NOT NULL THEN
        UPDATE OrleansStorage AS s
           SET payloadbinary = p_payloadbinary,
               modifiedon    = now(),
               version       = s.version + 1
         WHERE s.grainidhash   = p_grainidhash
           AND s.grainidn0     = p_grainidn0
           AND s.grainidn1     = p_grainidn1
           AND s.graintypehash = p_graintypehash
           AND s.graintypestring = p_graintypestring
           AND s.grainidextensionstring IS NOT DISTINCT FROM p_grainidextensionstring
           AND s.serviceid     = p_serviceid
           AND s.version       = p_grainstateversion
        RETURNING s.version INTO v_new;

        RETURN COALESCE(v_new, p_grainstateversion);
    END IF;

    INSERT INTO OrleansStorage AS s
        (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring,
         grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
    VALUES
        (p_grainidhash, p_grainidn0, p_grainidn1, p_graintypehash, p_graintypestring,
         p_grainidextensionstring, p_serviceid, p_payloadbinary, now(), 1)
    ON CONFLICT DO NOTHING
    RETURNING s.version INTO v_new;

    RETURN v_new;
END;
$body$;

-- Optimistic clear (payload set to NULL, version bumped; the row is kept).
-- Same version semantics as the write: a stale version returns the given version,
-- NULL with an existing row returns NULL (both are conflicts for Orleans).
CREATE OR REPLACE FUNCTION cg_orleans_clear_storage(
    p_grainidhash            integer,
    p_grainidn0              bigint,
    p_grainidn1              bigint,
    p_graintypehash          integer,
    p_graintypestring        text,
    p_grainidextensionstring text,
    p_serviceid              text,
    p_grainstateversion      integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $body$
DECLARE
    v_new integer;
BEGIN
    IF p_grainstateversion IS NOT NULL THEN
        UPDATE OrleansStorage AS s
           SET payloadbinary = NULL,
               modifiedon    = now(),
               version       = s.version + 1
         WHERE s.grainidhash   = p_grainidhash
           AND s.grainidn0     = p_grainidn0
           AND s.grainidn1     = p_grainidn1
           AND s.graintypehash = p_graintypehash
           AND s.graintypestring = p_graintypestring
           AND s.grainidextensionstring IS NOT DISTINCT FROM p_grainidextensionstring
           AND s.serviceid     = p_serviceid
           AND s.version       = p_grainstateversion
        RETURNING s.version INTO v_new;

        RETURN COALESCE(v_new, p_grainstateversion);
    END IF;

    INSERT INTO OrleansStorage AS s
        (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring,
         grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
    VALUES
        (p_grainidhash, p_grainidn0, p_grainidn1, p_graintypehash, p_graintypestring,
         p_grainidextensionstring, p_serviceid, NULL, now(), 1)
    ON CONFLICT DO NOTHING
    RETURNING s.version INTO v_new;

    RETURN v_new;
END;
$body$;

---------------------------------------------------------------------------------------
-- Clustering (extended membership protocol: one version row per cluster)
---------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,
    CONSTRAINT pk_orleansmembershipversiontable PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL,
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(255)   NOT NULL,
    HostName     varchar(255)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NOT NULL DEFAULT 0,
    SuspectTimes varchar(8000)  NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    CONSTRAINT pk_orleansmembershiptable PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT fk_orleansmembershiptable_version FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Insert a silo row, conditional on the table version (etag) still being p_version.
-- Returns 1 on success, 0 on a version conflict or if the silo row already exists.
CREATE OR REPLACE FUNCTION cg_orleans_membership_insert(
    p_deploymentid text,
    p_address      text,
    p_port         integer,
    p_generation   integer,
    p_siloname     text,
    p_hostname     text,
    p_status       integer,
    p_proxyport    integer,
    p_starttime    timestamptz,
    p_iamalivetime timestamptz,
    p_version      integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $body$
BEGIN
    -- Lock the version row; concurrent writers serialize here and re-check the version.
    PERFORM 1
       FROM OrleansMembershipVersionTable AS v
      WHERE v.DeploymentId = p_deploymentid
        AND v.Version = p_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName,
         Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime)
    VALUES
        (p_deploymentid, p_address, p_port, p_generation, p_siloname, p_hostname,
         p_status, COALESCE(p_proxyport, 0), NULL, p_starttime, p_iamalivetime)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deploymentid;

    RETURN 1;
END;
$body$;

-- Update a silo row, conditional on the table version (etag) still being p_version.
-- Returns 1 on success, 0 on a version conflict or if the silo row does not exist.
CREATE OR REPLACE FUNCTION cg_orleans_membership_update(
    p_deploymentid text,
    p_address      text,
    p_port         integer,
    p_generation   integer,
    p_status       integer,
    p_suspecttimes text,
    p_iamalivetime timestamptz,
    p_version      integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $body$
BEGIN
    PERFORM 1
       FROM OrleansMembershipVersionTable AS v
      WHERE v.DeploymentId = p_deploymentid
        AND v.Version = p_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable
       SET Status       = p_status,
           SuspectTimes = p_suspecttimes,
           IAmAliveTime = p_iamalivetime
     WHERE DeploymentId = p_deploymentid
       AND Address      = p_address
       AND Port         = p_port
       AND Generation   = p_generation;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deploymentid;

    RETURN 1;
END;
$body$;

---------------------------------------------------------------------------------------
-- Query texts (upserted on every run so edits here take effect on the next start;
-- Orleans reads them only at provider initialization)
---------------------------------------------------------------------------------------
INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- Persistence. Parameters: GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
-- GrainIdExtensionString, ServiceId (+ GrainStateVersion, PayloadBinary).
('WriteToStorageKey',
 'SELECT cg_orleans_write_storage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary) AS "NewGrainStateVersion";'),

('ReadFromStorageKey',
 'SELECT payloadbinary AS "PayloadBinary", version AS "Version"
    FROM OrleansStorage
   WHERE grainidhash = @GrainIdHash
     AND grainidn0 = @GrainIdN0
     AND grainidn1 = @GrainIdN1
     AND graintypehash = @GrainTypeHash
     AND graintypestring = @GrainTypeString
     AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
     AND serviceid = @ServiceId;'),

('ClearStorageKey',
 'SELECT cg_orleans_clear_storage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion) AS "NewGrainStateVersion";'),

-- Clustering. Result columns read by name: Address, Port, Generation, SiloName, HostName,
-- Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime, Version.
('GatewaysQueryKey',
 'SELECT Address AS "Address", ProxyPort AS "ProxyPort", Generation AS "Generation"
    FROM OrleansMembershipTable
   WHERE DeploymentId = @DeploymentId
     AND Status = @Status
     AND ProxyPort > 0;'),

('MembershipReadRowKey',
 'SELECT v.DeploymentId AS "DeploymentId", m.Address AS "Address", m.Port AS "Port",
         m.Generation AS "Generation", m.SiloName AS "SiloName", m.HostName AS "HostName",
         m.Status AS "Status", m.ProxyPort AS "ProxyPort", m.SuspectTimes AS "SuspectTimes",
         m.StartTime AS "StartTime", m.IAmAliveTime AS "IAmAliveTime", v.Version AS "Version"
    FROM OrleansMembershipVersionTable AS v
    LEFT JOIN OrleansMembershipTable AS m
      ON m.DeploymentId = v.DeploymentId
     AND m.Address = @Address
     AND m.Port = @Port
     AND m.Generation = @Generation
   WHERE v.DeploymentId = @DeploymentId;'),

('MembershipReadAllKey',
 'SELECT v.DeploymentId AS "DeploymentId", m.Address AS "Address", m.Port AS "Port",
         m.Generation AS "Generation", m.SiloName AS "SiloName", m.HostName AS "HostName",
         m.Status AS "Status", m.ProxyPort AS "ProxyPort", m.SuspectTimes AS "SuspectTimes",
         m.StartTime AS "StartTime", m.IAmAliveTime AS "IAmAliveTime", v.Version AS "Version"
    FROM OrleansMembershipVersionTable AS v
    LEFT JOIN OrleansMembershipTable AS m
      ON m.DeploymentId = v.DeploymentId
   WHERE v.DeploymentId = @DeploymentId;'),

('InsertMembershipVersionKey',
 'WITH inserted AS (
      INSERT INTO OrleansMembershipVersionTable (DeploymentId, Timestamp, Version)
      VALUES (@DeploymentId, now(), 0)
      ON CONFLICT (DeploymentId) DO NOTHING
      RETURNING 1
  )
  SELECT CAST(count(*) AS integer) AS "Inserted" FROM inserted;'),

('UpdateIAmAlivetimeKey',
 'UPDATE OrleansMembershipTable
     SET IAmAliveTime = @IAmAliveTime
   WHERE DeploymentId = @DeploymentId
     AND Address = @Address
     AND Port = @Port
     AND Generation = @Generation;'),

('InsertMembershipKey',
 'SELECT cg_orleans_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS "Succeeded";'),

('UpdateMembershipKey',
 'SELECT cg_orleans_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes, @IAmAliveTime, @Version) AS "Succeeded";'),

('DeleteMembershipTableEntriesKey',
 'DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
  DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;'),

-- Removes entries of silos that are not Active (SiloStatus.Active = 3) and whose last
-- IAmAlive is older than the cut-off (same rule as the Orleans in-memory membership table).
('CleanupDefunctSiloEntriesKey',
 'DELETE FROM OrleansMembershipTable
   WHERE DeploymentId = @DeploymentId
     AND IAmAliveTime < @IAmAliveTime
     AND Status <> 3;')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
