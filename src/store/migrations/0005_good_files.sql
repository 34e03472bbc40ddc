-- 5: each schedule file's last version without errors, so a file
-- broken while the daemon was down still goes on air as it was.
-- Keep the text of each CREATE and added column as it is: SQLite stores
-- it as written, so even its spacing is part of the schema.
CREATE TABLE good_files (
        file      TEXT PRIMARY KEY,
        text      TEXT NOT NULL,
        saved_at  TEXT NOT NULL
    );
