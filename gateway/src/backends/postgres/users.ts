import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DbContext } from './database.js';
import { ConflictError, InvalidInputError, PgState, sqlState } from './errors.js';
import type { User, UserRepository, UserWithPassword } from './types.js';
import { isUuid, iso } from './util.js';

const toUser = (r: { id: string; email: string; created_at: Date }): User => ({
  id: r.id,
  email: r.email,
  createdAt: iso(r.created_at),
});

export function userRepository({ db }: DbContext): UserRepository {
  return {
    async create({ email, passwordHash }) {
      const trimmed = typeof email === 'string' ? email.trim() : '';
      if (!trimmed) throw new InvalidInputError('email is required');
      if (typeof passwordHash !== 'string' || !passwordHash) throw new InvalidInputError('passwordHash is required');
      try {
        const row = await db
          .insertInto('users')
          .values({ id: randomUUID(), email: trimmed, password_hash: passwordHash })
          .returning(['id', 'email', 'created_at'])
          .executeTakeFirstOrThrow();
        return toUser(row);
      } catch (error) {
        if (sqlState(error) === PgState.UniqueViolation) {
          throw new ConflictError('email is already registered', { cause: error });
        }
        throw error;
      }
    },

    async findByEmail(email): Promise<UserWithPassword | null> {
      if (typeof email !== 'string' || !email.trim()) return null;
      const row = await db
        .selectFrom('users')
        .select(['id', 'email', 'created_at', 'password_hash'])
        .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
        .executeTakeFirst();
      return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
    },

    async findById(id) {
      if (!isUuid(id)) return null;
      const row = await db.selectFrom('users').select(['id', 'email', 'created_at']).where('id', '=', id).executeTakeFirst();
      return row ? toUser(row) : null;
    },
  };
}
