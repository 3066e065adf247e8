-- Every municipality has an audit chain head from now on: a municipality without one lost its
-- chain (entries and head row deleted), which `renraku audit verify` reports. Municipalities
-- that never had an audit entry get an empty head (seq 0, the genesis seal); new ones open their
-- chain with an entry of their own when they are created.
INSERT INTO audit_heads (chain, seq, seal)
SELECT id, 0, '0000000000000000000000000000000000000000000000000000000000000000'
FROM municipalities
WHERE id NOT IN (SELECT chain FROM audit_heads);
