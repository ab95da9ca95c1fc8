-- FerretDB 1.x hands an equality filter ({user: X}) to PostgreSQL as jsonb
-- containment, (_jsonb -> 'user') @> X, which the btree indexes it creates
-- for MongoDB indexes cannot serve: every such query would read the whole
-- table. This trigger gives each of those indexes a GIN twin on its first
-- key, which serves @>. It runs inside FerretDB's CREATE INDEX and never
-- makes it fail: a twin that cannot be built is left out with a warning.
CREATE OR REPLACE FUNCTION public.taskready_containment_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
	cmd record;
	tbl regclass;
	expr text;
BEGIN
	FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
		tbl := NULL;
		expr := NULL;
		SELECT i.indrelid::regclass, pg_get_indexdef(i.indexrelid, 1, false) INTO tbl, expr
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		 WHERE i.indexrelid = cmd.objid AND a.amname = 'btree';
		CONTINUE WHEN expr IS NULL OR NOT starts_with(expr, '((_jsonb -> ');
		CONTINUE WHEN EXISTS (
			SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
			 WHERE i.indrelid = tbl AND a.amname = 'gin' AND starts_with(pg_get_indexdef(i.indexrelid, 1, false), expr));
		BEGIN
			EXECUTE format('CREATE INDEX ON %s USING gin (%s jsonb_path_ops)', tbl, expr);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'taskready: no GIN index on % of %: %', expr, tbl, SQLERRM;
		END;
	END LOOP;
END
$fn$;

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'taskready_containment_index') THEN
		CREATE EVENT TRIGGER taskready_containment_index ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
			EXECUTE FUNCTION public.taskready_containment_index();
	END IF;
END
$$;
