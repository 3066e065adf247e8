-- The care-plan exchange routes by 介護事業所番号, and registering a facility checks that no
-- other facility on the server holds the number: both look facilities up by it. Not unique:
-- installations may hold duplicates from before the rule, and this migration must not fail on
-- them (the store refuses new duplicates inside its transaction instead).
CREATE INDEX facilities_care_provider_no ON facilities (care_provider_no);
