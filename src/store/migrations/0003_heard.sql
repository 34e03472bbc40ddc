-- 3: proof of air: whether the monitor heard the play (NULL: no monitor).
-- Keep the text of each CREATE and added column as it is: SQLite stores
-- it as written, so even its spacing is part of the schema.
ALTER TABLE plays ADD COLUMN heard INTEGER CHECK (heard IN (0, 1));
