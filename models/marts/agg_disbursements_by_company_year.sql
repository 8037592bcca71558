-- Net money paid per beneficiary and calendar year of payment.
{{ rollup_disbursements([
    ('beneficiary_id', "coalesce(beneficiary_id, 'UNKNOWN')"),
    ('beneficiary_name', "coalesce(beneficiary_name, '（未知主体）')"),
]) }}
