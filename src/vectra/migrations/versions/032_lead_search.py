"""Lead search through the pg_trgm index while row-level security stays on.

Why: under RLS, PostgreSQL evaluates a query's non-leakproof conditions (ILIKE is one) only
after the policy's, so it never uses them as index conditions: the app role's lead search
could not use `idx_leads_search_trgm` (027) and walked the whole campaign (0.65 s at 1M
leads). `vectra_lead_search` runs as the table owner, to whom the policy does not apply,
finds the campaign's matching lead ids through the trigram index, and filters them by the
same tenant predicate as the policy; the caller joins the ids back to `leads` under RLS, so
a row of another organization can still never be read. The function takes two patterns: the
index is searched with the first (the caller passes the term's rarest word, since GIN pays
for every frequent trigram of a pattern) and the rows found are checked against the second
(the whole term). Plans are made per call: a generic plan cannot cost an unknown pattern.
"""

from __future__ import annotations

import os

from alembic import context, op

revision = "032_lead_search"
down_revision = "031_emails_claim_order"
branch_labels = None
depends_on = None


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or os.environ.get("VECTRA_APP_ROLE")
    return str(role or "vectra_app")


UPGRADE = """
CREATE FUNCTION vectra_lead_search(p_campaign uuid, p_index_pattern text, p_pattern text)
    RETURNS TABLE (id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER ROWS 200
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_custom_plan
AS $$
    WITH candidates AS MATERIALIZED (
        SELECT l.id,
               coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, '') || ' ' ||
               coalesce(l.company_name, '') || ' ' || coalesce(l.job_title, '') AS haystack
        FROM leads l
        WHERE l.campaign_id = p_campaign
          AND (vectra_is_system() OR l.organization_id = vectra_current_organization())
          AND (coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, '') || ' ' ||
               coalesce(l.company_name, '') || ' ' || coalesce(l.job_title, ''))
              ILIKE p_index_pattern
    )
    SELECT c.id FROM candidates c WHERE c.haystack ILIKE p_pattern
$$;
REVOKE ALL ON FUNCTION vectra_lead_search(uuid, text, text) FROM PUBLIC;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(f'GRANT EXECUTE ON FUNCTION vectra_lead_search(uuid, text, text) TO "{_app_role()}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION vectra_lead_search(uuid, text, text)")
