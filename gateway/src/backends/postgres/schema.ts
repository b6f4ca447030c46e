/** Kysely table types (snake_case columns as in SQL). */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: Timestamp;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  created_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  replaced_by: string | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  title: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  seq_reserved: ColumnType<string, never, never>;
}

export interface MessagesTable {
  /** Insertion order; used for paging, never exposed. */
  n: ColumnType<string, never, never>;
  id: string;
  session_id: string;
  run_id: string;
  role: string;
  content: string;
  seq_from: number | null;
  seq_to: number | null;
  client_message_id: string | null;
  tool_name: string | null;
  created_at: Timestamp;
  /** True from a send's user row until the run's end is recorded; NULL for rows without a run. */
  run_open: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
}

export interface MemoriesTable {
  id: string;
  user_id: string;
  text: string;
  dims: number;
  /** `vector` (pgvector) or `real[]`; written through raw SQL casts. */
  embedding: unknown;
  created_at: Timestamp;
}

export interface TokenUsageTable {
  user_id: string;
  day: ColumnType<string, string, string>;
  tokens: ColumnType<string, number | string, number | string>;
}

export interface FeedbackTable {
  user_id: string;
  session_id: string;
  run_id: string;
  score: number;
  comment: string | null;
  trace_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LlmSpendTable {
  user_id: string;
  day: ColumnType<string, string, string>;
  model: string;
  input_tokens: ColumnType<string, number | string, number | string>;
  output_tokens: ColumnType<string, number | string, number | string>;
  cost_nanos: ColumnType<string, number | string, number | string>;
  runs: number;
  cached_runs: number;
}

export interface QuestionCacheTable {
  id: string;
  user_id: string;
  tier: string;
  question: string;
  dims: number;
  embedding: unknown;
  answer: string;
  created_at: Timestamp;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  messages: MessagesTable;
  memories: MemoriesTable;
  token_usage: TokenUsageTable;
  feedback: FeedbackTable;
  llm_spend: LlmSpendTable;
  question_cache: QuestionCacheTable;
}

export type { Generated };
