-- A deletion withdraws the records of the people (and, for 実績, the office and service type)
-- it names, not the whole set: a set for two people, or a 実績 set for 訪問介護 and 福祉用具,
-- keeps what the deletion does not name (issue 10, item 13). The set itself is withdrawn when
-- every one of its subjects is.
ALTER TABLE careplan_subjects ADD COLUMN withdrawn_by TEXT REFERENCES careplan_sets (id);
