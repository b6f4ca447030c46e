/**
 * Versioned schema migrations, kept in code (no files to ship) and run by Kysely's Migrator at
 * open. Append new migrations; never edit one that has shipped.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** What a migration may depend on besides the database. */
export interface MigrationContext {
  /** pgvector is installed in this database and wanted: memories get a `vector` column. */
  vector: boolean;
}

function init(ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE TABLE users (
          id uuid PRIMARY KEY,
          email text NOT NULL,
          password_hash text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      await sql`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`.execute(db);

      await sql`
        CREATE TABLE refresh_tokens (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          family_id uuid NOT NULL,
          token_hash text NOT NULL UNIQUE,
          expires_at timestamptz NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          revoked_at timestamptz,
          replaced_by uuid
        )`.execute(db);
      await sql`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`.execute(db);
      await sql`CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)`.execute(db);

      await sql`
        CREATE TABLE sessions (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          title text,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      await sql`CREATE INDEX sessions_user_updated_idx ON sessions (user_id, updated_at DESC, id DESC)`.execute(db);

      await sql`
        CREATE TABLE messages (
          n bigserial PRIMARY KEY,
          id uuid NOT NULL UNIQUE,
          session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
          run_id text NOT NULL,
          role text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
          content text NOT NULL,
          seq_from integer,
          seq_to integer,
          client_message_id text,
          tool_name text,
          created_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      await sql`CREATE INDEX messages_session_n_idx ON messages (session_id, n DESC)`.execute(db);
      await sql`
        CREATE UNIQUE INDEX messages_client_id_key ON messages (session_id, client_message_id)
        WHERE role = 'user' AND client_message_id IS NOT NULL`.execute(db);

      const embeddingType = ctx.vector ? sql`vector` : sql`real[]`;
      await sql`
        CREATE TABLE memories (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          text text NOT NULL,
          dims integer NOT NULL,
          embedding ${embeddingType} NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      await sql`CREATE INDEX memories_user_idx ON memories (user_id, dims, created_at DESC)`.execute(db);

      await sql`
        CREATE TABLE token_usage (
          user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          day date NOT NULL,
          tokens bigint NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, day)
        )`.execute(db);
    },
  };
}

/** User feedback on runs: one row per user and run. */
const feedback: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE feedback (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        run_id text NOT NULL,
        score smallint NOT NULL CHECK (score IN (-1, 1)),
        comment text,
        trace_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, run_id)
      )`.execute(db);
    await sql`CREATE INDEX feedback_session_idx ON feedback (session_id)`.execute(db);
    await sql`CREATE INDEX messages_session_run_idx ON messages (session_id, run_id)`.execute(db);
  },
};

/**
 * Model spend per user, UTC day and model (cost in nano-dollars: integers, no float drift).
 * `IF NOT EXISTS`: the migrator allows unordered migrations (a `0004_*` from another branch may
 * land after this one ran), so each migration must stand on its own.
 */
const spend: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE IF NOT EXISTS llm_spend (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        day date NOT NULL,
        model text NOT NULL,
        input_tokens bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        cost_nanos bigint NOT NULL DEFAULT 0 CHECK (cost_nanos >= 0),
        runs integer NOT NULL DEFAULT 0,
        cached_runs integer NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, day, model)
      )`.execute(db);
    await sql`CREATE INDEX IF NOT EXISTS llm_spend_day_idx ON llm_spend (day)`.execute(db);
  },
};

/**
 * The semantic cache: a user's earlier opening questions with their embeddings and answers, until
 * `expires_at`. Self-standing (`IF NOT EXISTS`), like `0005_spend`.
 */
function questionCache(ctx: MigrationContext): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const embeddingType = ctx.vector ? sql`vector` : sql`real[]`;
      await sql`
        CREATE TABLE IF NOT EXISTS question_cache (
          id uuid PRIMARY KEY,
          user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          tier text NOT NULL,
          question text NOT NULL,
          dims integer NOT NULL,
          embedding ${embeddingType} NOT NULL,
          answer text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL
        )`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS question_cache_user_idx ON question_cache (user_id, tier, dims, expires_at)`.execute(db);
    },
  };
}

/**
 * The durable high-water mark of each session's frame `seq`: a session log hands out no `seq`
 * above it, and a log that was recreated (Redis lost it) numbers above it, so a `seq` is never
 * reused. Seeded from the transcript's highest recorded `seq`.
 */
const seqReservation: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE sessions ADD COLUMN IF NOT EXISTS seq_reserved bigint NOT NULL DEFAULT 0`.execute(db);
    await sql`
      UPDATE sessions SET seq_reserved = m.top
      FROM (SELECT session_id, max(greatest(seq_from, seq_to)) AS top FROM messages GROUP BY session_id) m
      WHERE m.session_id = sessions.id AND m.top IS NOT NULL`.execute(db);
  },
};

/**
 * Which acked runs have ended: the user row a send stores before its ack opens its run
 * (`run_open` true), and the run's record (its own after-run record, or the completion of a lost
 * run) closes it. NULL for rows stored without a run (and before this migration): unknown. A run
 * still open long after its lease lapsed is one whose end went missing (its node died, and Redis
 * may have lost the log that held its frames); the partial index keeps finding them cheap.
 */
const runEnds: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE messages ADD COLUMN IF NOT EXISTS run_open boolean`.execute(db);
    await sql`CREATE INDEX IF NOT EXISTS messages_open_runs_idx ON messages (created_at) WHERE run_open`.execute(db);
  },
};

/** The migrations, keyed so that their names sort in order. */
export function migrationProvider(ctx: MigrationContext): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '0001_init': init(ctx),
        '0003_feedback': feedback,
        '0004_seq_reservation': seqReservation,
        '0005_spend': spend,
        '0006_question_cache': questionCache(ctx),
        '0007_run_ends': runEnds,
      };
    },
  };
}
