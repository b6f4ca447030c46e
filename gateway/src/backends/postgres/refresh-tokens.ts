import { randomUUID } from 'node:crypto';
import type { DbContext } from './database.js';
import { ConflictError, InvalidInputError, NotFoundError, PgState, sqlState } from './errors.js';
import type { RefreshTokenRecord, RefreshTokenRepository } from './types.js';
import { isUuid, iso, isoOrNull, requireUuid } from './util.js';

interface Row {
  id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  revoked_at: Date | null;
  replaced_by: string | null;
}

const COLUMNS = ['id', 'user_id', 'family_id', 'expires_at', 'revoked_at', 'replaced_by'] as const;

const toRecord = (r: Row): RefreshTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  familyId: r.family_id,
  expiresAt: iso(r.expires_at),
  revokedAt: isoOrNull(r.revoked_at),
  replacedBy: r.replaced_by,
});

export function refreshTokenRepository({ db }: DbContext): RefreshTokenRepository {
  return {
    async create({ userId, familyId, tokenHash, expiresAt }) {
      requireUuid(userId, 'userId');
      requireUuid(familyId, 'familyId');
      if (typeof tokenHash !== 'string' || !tokenHash) throw new InvalidInputError('tokenHash is required');
      const expires = new Date(expiresAt);
      if (Number.isNaN(expires.getTime())) throw new InvalidInputError('expiresAt must be a date');
      try {
        const row = await db
          .insertInto('refresh_tokens')
          .values({ id: randomUUID(), user_id: userId, family_id: familyId, token_hash: tokenHash, expires_at: expires })
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        return toRecord(row);
      } catch (error) {
        const state = sqlState(error);
        if (state === PgState.UniqueViolation) throw new ConflictError('refresh token hash already stored', { cause: error });
        if (state === PgState.ForeignKeyViolation) throw new NotFoundError('user not found', { cause: error });
        throw error;
      }
    },

    async findByHash(tokenHash) {
      if (typeof tokenHash !== 'string' || !tokenHash) return null;
      const row = await db.selectFrom('refresh_tokens').select(COLUMNS).where('token_hash', '=', tokenHash).executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async rotate(id, replacedById) {
      if (!isUuid(id)) return false;
      requireUuid(replacedById, 'replacedById');
      const result = await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: new Date(), replaced_by: replacedById })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async isFamilyLive(familyId, userId) {
      if (!isUuid(familyId) || !isUuid(userId)) return false;
      const row = await db
        .selectFrom('refresh_tokens')
        .select('id')
        .where('family_id', '=', familyId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    async revokeFamily(familyId) {
      if (!isUuid(familyId)) return 0;
      const result = await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: new Date() })
        .where('family_id', '=', familyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async revokeAllForUser(userId) {
      if (!isUuid(userId)) return 0;
      const result = await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: new Date() })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
