-- Net money paid per beneficiary and calendar year of payment.
-- daily loads recompute every year of the beneficiaries whose payments they resolve again:
{{ config(materialized='incremental', incremental_strategy='append', pre_hook="{{ delete_rows_to_recompute('beneficiary_id', payees_to_recompute()) }}") }}
{{ rollup_disbursements([
    ('beneficiary_id', rollup_payee('beneficiary_id')),
    ('beneficiary_name', "coalesce(beneficiary_name, '（未知主体）')"),
], where=rollup_payee('beneficiary_id') ~ " in (" ~ payees_to_recompute() ~ ")" if is_incremental() else none) }}
