-- The cap arithmetic keeps every yuan: approved = within cap + over cap, and within cap never
-- exceeds what the policy allows (eligible amount) nor the static limit.
{{ config(meta={'audit_rule': 'invalid_value'}) }}
select application_id, approved_amount, eligible_amount, within_cap_amount, over_cap_amount, static_limit
from {{ ref('fct_awards') }}
where approved_amount <> within_cap_amount + over_cap_amount
    or within_cap_amount > eligible_amount
    or within_cap_amount > coalesce(static_limit, within_cap_amount)
    or within_cap_amount < 0
    or eligible_amount < 0
