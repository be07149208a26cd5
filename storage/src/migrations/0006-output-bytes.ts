import type { Knex } from 'knex';

/**
 * Output is data, whatever its bytes (issue 12): `evaluations.stdout` and `stderr` become bytea,
 * holding exactly what the program wrote. As text they could not hold a NUL byte (PostgreSQL text
 * cannot), so one `print("a\0b")` made a report storage would never accept; and invalid UTF-8
 * was lost on the way in. Existing rows keep their text as its UTF-8 bytes.
 *
 * Output events need no schema change: their jsonb data now holds the chunk as base64 (jsonb
 * cannot hold \u0000 either), and the compile step's jsonb likewise (see evaluation-row.ts).
 */
export const name = '0006-output-bytes';

const COLUMNS = ['stdout', 'stderr'] as const;

export async function up(knex: Knex): Promise<void> {
  for (const column of COLUMNS) {
    await knex.raw(
      `ALTER TABLE evaluations
         ALTER COLUMN ?? DROP DEFAULT,
         ALTER COLUMN ?? TYPE bytea USING convert_to(??, 'UTF8'),
         ALTER COLUMN ?? SET DEFAULT ''::bytea`,
      [column, column, column, column],
    );
  }
}

/** Back to text. Refuses (the ALTER fails) while a row holds bytes text cannot: nothing is silently lost. */
export async function down(knex: Knex): Promise<void> {
  for (const column of COLUMNS) {
    await knex.raw(
      `ALTER TABLE evaluations
         ALTER COLUMN ?? DROP DEFAULT,
         ALTER COLUMN ?? TYPE text USING convert_from(??, 'UTF8'),
         ALTER COLUMN ?? SET DEFAULT ''`,
      [column, column, column, column],
    );
  }
}
