import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §2 and §5 scopes: `subjects.parent`, a subject's team or org. The database refuses a
 * parent that makes a cycle or a scope deeper than 4 levels (the subject and 3 ancestors), for
 * edits made with SQL as much as through the service.
 */
export class SubjectParent1765000000151 implements MigrationInterface {
  name = 'SubjectParent1765000000151';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE subjects ADD COLUMN parent text
        CONSTRAINT fk_subjects_parent REFERENCES subjects(id) ON UPDATE CASCADE`);
    await db.query(`CREATE INDEX ix_subjects_parent ON subjects (parent)`);
    // Walks up from the new parent (a cycle is meeting the subject itself on the way) and down
    // from the subject (its subtree moves along). One lock serialises scope edits, so two
    // concurrent edits cannot each pass and together make a cycle.
    await db.query(`
      CREATE FUNCTION token_budget_check_scope() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        above int := 1;
        below int;
        cursor_id text := NEW.parent;
      BEGIN
        IF NEW.parent IS NULL THEN
          RETURN NEW;
        END IF;
        PERFORM pg_advisory_xact_lock(1765000000151);
        WHILE cursor_id IS NOT NULL LOOP
          IF cursor_id = NEW.id THEN
            RAISE EXCEPTION 'subject % cannot have parent %: that makes a cycle', NEW.id, NEW.parent
              USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_subjects_scope_cycle';
          END IF;
          above := above + 1;
          IF above > 4 THEN
            EXIT;
          END IF;
          SELECT parent INTO cursor_id FROM subjects WHERE id = cursor_id;
        END LOOP;
        WITH RECURSIVE down(id, depth) AS (
          SELECT id, 1 FROM subjects WHERE parent = NEW.id
          UNION ALL
          SELECT s.id, d.depth + 1 FROM subjects s JOIN down d ON s.parent = d.id WHERE d.depth < 4
        )
        SELECT coalesce(max(depth), 0) INTO below FROM down;
        IF above + below > 4 THEN
          RAISE EXCEPTION 'subject % cannot have parent %: a scope is at most 4 levels deep', NEW.id, NEW.parent
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_subjects_scope_depth';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`
      CREATE TRIGGER tg_subjects_scope BEFORE INSERT OR UPDATE OF parent ON subjects
      FOR EACH ROW EXECUTE FUNCTION token_budget_check_scope()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER tg_subjects_scope ON subjects`);
    await db.query(`DROP FUNCTION token_budget_check_scope()`);
    await db.query(`DROP INDEX ix_subjects_parent`);
    await db.query(`ALTER TABLE subjects DROP COLUMN parent`);
  }
}
