-- duplicate_record: an identifier seen more than once in its file (collapsed or rejected).
{%- set entities = [
    ('beneficiary', 'base_raw__beneficiaries', 'beneficiary_ref_hash', 'min(beneficiary_id)'),
    ('application', 'base_raw__applications', 'application_id', 'application_id'),
    ('disbursement', 'base_raw__disbursements', 'disbursement_id', 'disbursement_id'),
] %}
{%- for record_type, model, key, shown_id in entities %}
select
    'duplicate_record' as rule_code,
    '{{ record_type }}' as record_type,
    {{ shown_id }} as record_id,
    cast(null as {{ text_type() }}) as beneficiary_id,
    cast(null as {{ text_type() }}) as clause_code,
    cast(null as {{ text_type() }}) as bureau,
    cast(null as integer) as award_year,
    {{ money_total('0') }} as amount_at_issue,
    {{ dbt.concat(["'在 '", 'min(source_file)', "' 中出现 '", dbt.cast('count(*)', api.Column.translate_type('string')),
                   "' 次，'",
                   "case when max(id_versions) = 1 then '内容相同，保留一条' else '内容不一致，全部拒收' end"]) }}
        as detail
from {{ ref(model) }}
-- the base model has counted each identifier's copies (id_copies): only those rows are grouped (grouping every
-- identifier took a third of audit.exceptions' time at 10M applications)
where {{ key }} is not null and id_copies > 1
group by {{ key }}
having count(*) > 1
{% if not loop.last %}union all{% endif %}
{%- endfor %}
