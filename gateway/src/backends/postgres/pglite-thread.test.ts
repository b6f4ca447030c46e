/**
 * The PGlite thread's prepared statements: a statement run again is bound to the statement
 * prepared the first time, with the same values, rows and errors as the first run. Its pipelining:
 * statements sent together run in order, and none lands inside another holder's transaction.
 */
import { openPgliteThread, type PgliteClient } from './pglite-thread.js';

describe('PGlite thread', () => {
  let db: PgliteClient;
  beforeAll(async () => {
    db = await openPgliteThread({ vector: false });
    await db.query('CREATE TABLE t (id integer PRIMARY KEY, name text, at timestamptz, doc jsonb, tags text[], data bytea, big bigint)');
  });
  afterAll(async () => {
    await db.close();
  });

  it('returns the same rows for a statement run once and again, values of every kind', async () => {
    const insert = 'INSERT INTO t (id, name, at, doc, tags, data, big) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *';
    const at = new Date('2026-01-02T03:04:05.678Z');
    const first = await db.query(insert, [1, "o'neil", at, JSON.stringify({ a: [1, null] }), ['x', 'y z', '"q"'], new Uint8Array([0, 255, 7]), '9007199254740993']);
    const second = await db.query(insert, [2, null, at, JSON.stringify({ a: [1, null] }), ['x', 'y z', '"q"'], new Uint8Array([0, 255, 7]), '9007199254740993']);
    expect(first.rows[0]).toMatchObject({ id: 1, name: "o'neil", at, doc: { a: [1, null] }, tags: ['x', 'y z', '"q"'], data: new Uint8Array([0, 255, 7]) });
    expect({ ...second.rows[0], id: 1, name: "o'neil" }).toEqual(first.rows[0]);
    expect(second.affectedRows).toBe(1);
    const select = 'SELECT id, name FROM t WHERE id = ANY($1::int[]) ORDER BY id';
    expect((await db.query(select, [[1, 2]])).rows).toEqual([{ id: 1, name: "o'neil" }, { id: 2, name: null }]);
    expect((await db.query(select, [[2]])).rows).toEqual([{ id: 2, name: null }]);
  });

  it('reports a database error with its SQLSTATE from a prepared statement, and goes on', async () => {
    const insert = 'INSERT INTO t (id) VALUES ($1)';
    await db.query(insert, [10]);
    await expect(db.query(insert, [10])).rejects.toMatchObject({ code: '23505' });
    await db.query(insert, [11]);
    expect((await db.query('SELECT count(*)::int AS n FROM t WHERE id >= $1', [10])).rows).toEqual([{ n: 2 }]);
  });

  it('runs a statement again after the table under it changed', async () => {
    const select = 'SELECT * FROM t WHERE id = $1';
    expect(Object.keys((await db.query(select, [1])).rows[0]!)).not.toContain('extra');
    await db.query('ALTER TABLE t ADD COLUMN extra text');
    expect(Object.keys((await db.query(select, [1])).rows[0]!)).toContain('extra');
    expect(Object.keys((await db.query(select, [1])).rows[0]!)).toContain('extra');
  });

  it('keeps transactions: a rolled-back write is gone', async () => {
    const insert = 'INSERT INTO t (id) VALUES ($1)';
    await db.query('BEGIN');
    await db.query(insert, [20]);
    await db.query('ROLLBACK');
    expect((await db.query('SELECT count(*)::int AS n FROM t WHERE id = $1', [20])).rows).toEqual([{ n: 0 }]);
  });

  it('runs statements sent together in the order they were sent, without waiting for each answer', async () => {
    await db.query('CREATE TABLE seqs (n integer)');
    const sent = Array.from({ length: 50 }, (_, n) => db.query('INSERT INTO seqs (n) VALUES ($1) RETURNING n', [n], 100 + n));
    const answers = await Promise.all(sent);
    expect(answers.map((a) => a.rows[0])).toEqual(Array.from({ length: 50 }, (_, n) => ({ n })));
    expect((await db.query('SELECT array_agg(n ORDER BY ctid) AS ns FROM seqs')).rows[0]).toEqual({ ns: Array.from({ length: 50 }, (_, n) => n) });
  });

  it("keeps another holder's statements out of an open transaction: they run after it ends", async () => {
    await db.query('CREATE TABLE tx (id integer, by text)');
    const a = 1, b = 2;
    expect((await db.query('BEGIN', [], a)).inTransaction).toBe(true);
    await db.query("INSERT INTO tx VALUES (1, 'a')", [], a);
    // Sent while a's transaction is open: it must not run inside it (a's rollback would undo it).
    const bWrite = db.query("INSERT INTO tx VALUES (2, 'b') RETURNING id", [], b);
    const bRead = db.query('SELECT count(*)::int AS n FROM tx', [], b);
    let bDone = false;
    void bWrite.then(() => (bDone = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(bDone).toBe(false);
    expect((await db.query('SELECT count(*)::int AS n FROM tx', [], a)).rows).toEqual([{ n: 1 }]);
    expect((await db.query('ROLLBACK', [], a)).inTransaction).toBe(false);
    expect((await bWrite).rows).toEqual([{ id: 2 }]);
    expect((await bRead).rows).toEqual([{ n: 1 }]);
    expect((await db.query('SELECT id, by FROM tx')).rows).toEqual([{ id: 2, by: 'b' }]);
  });

  it('rolls back a transaction its holder released while open, and the waiting statements run', async () => {
    await db.query('CREATE TABLE leak (id integer)');
    await db.query('BEGIN', [], 7);
    await db.query('INSERT INTO leak VALUES (1)', [], 7);
    const waiting = db.query('INSERT INTO leak VALUES (2)', [], 8);
    db.release(7);
    await waiting;
    expect((await db.query('SELECT id FROM leak')).rows).toEqual([{ id: 2 }]);
  });

  it('keeps the transaction with its holder after a failed statement in it, until the rollback', async () => {
    await db.query('CREATE TABLE failing (id integer PRIMARY KEY)');
    await db.query('INSERT INTO failing VALUES (1)');
    await db.query('BEGIN', [], 11);
    await expect(db.query('INSERT INTO failing VALUES (1)', [], 11)).rejects.toMatchObject({ code: '23505', inTransaction: true });
    const other = db.query('INSERT INTO failing VALUES (2)', [], 12);
    expect((await db.query('ROLLBACK', [], 11)).inTransaction).toBe(false);
    await other;
    expect((await db.query('SELECT id FROM failing ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });
});
