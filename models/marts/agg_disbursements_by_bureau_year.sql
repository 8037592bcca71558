-- Net money paid per paying bureau (as written on the disbursement) and calendar year of payment.
{{ rollup_disbursements([
    ('paying_bureau', "coalesce(paying_bureau, '（未填写）')"),
    ('paying_bureau_code', "paying_bureau_code"),
]) }}
