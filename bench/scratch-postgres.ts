import pg from 'pg';

/**
 * Run `work` against a fresh database on the local PostgreSQL server (TEST_DATABASE_URL, as the tests
 * use), dropped afterwards; says so and skips when the server is unreachable.
 */
export async function withScratchPostgres(name: string, work: (url: URL) => Promise<void>): Promise<void> {
  const admin = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `fcd_bench_${name}_${process.pid}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (error) {
    console.log(
      `  postgres: skipped (${admin.replace(/\/\/[^@]*@/, '//')} unreachable: ${(error as Error).message})`,
    );
    return;
  }
  await client.query(`create database ${database}`);
  try {
    const url = new URL(admin);
    url.pathname = `/${database}`;
    await work(url);
  } finally {
    await client.query(`drop database if exists ${database} with (force)`);
    await client.end();
  }
}
