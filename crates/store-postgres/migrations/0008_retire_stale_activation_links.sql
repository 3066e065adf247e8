-- An activation link may only act on a person still waiting for activation, and only the newest
-- link of a person works. Links that earlier versions left open are retired here: those of people
-- who already have a password or a second factor, and every link of a person but the newest.
CREATE INDEX tokens_by_identity ON tokens (identity_id, purpose);

UPDATE tokens SET used_at_ms = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)
WHERE purpose = 'activation' AND used_at_ms IS NULL AND (
    identity_id IN (SELECT id FROM identities WHERE password_hash IS NOT NULL OR totp_secret IS NOT NULL)
    OR EXISTS (
        SELECT 1 FROM tokens newer
        WHERE newer.purpose = 'activation' AND newer.identity_id = tokens.identity_id
          AND newer.expires_at_ms > tokens.expires_at_ms
    )
);
