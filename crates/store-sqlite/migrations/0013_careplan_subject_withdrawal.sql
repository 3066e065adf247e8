-- A deletion withdraws the records of the people (and, for 実績, the office and service type)
-- it names, not the whole set: a set for two people, or a 実績 set for 訪問介護 and 福祉用具,
-- keeps what the deletion does not name (issue 10, item 13). The set itself is withdrawn when
-- every one of its subjects is.
ALTER TABLE careplan_subjects ADD COLUMN withdrawn_by TEXT REFERENCES careplan_sets (id);

-- 実績 and their deletions are now keyed by 対象年月, サービス事業者コード and サービス種類コード.
-- Those stored before keyed by month alone take the office and service type of the file names'
-- sender (the 事業所 that sent them; `sender_office` is `0123456789-13`), so a deletion sent
-- after the upgrade still finds them.
UPDATE careplan_subjects SET record_key = record_key || ' ' || substr(
    (SELECT s.sender_office FROM careplan_sets s WHERE s.id = careplan_subjects.set_id), 1, 10) || ' ' || substr(
    (SELECT s.sender_office FROM careplan_sets s WHERE s.id = careplan_subjects.set_id), 12, 2)
WHERE set_id IN (SELECT id FROM careplan_sets WHERE kind IN ('actual', 'actual_deletion'))
  AND record_key NOT LIKE '% %';
