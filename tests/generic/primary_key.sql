{#- A primary key: fails on every value that more than one row holds, and once on the rows that hold none (their
    count in n_records). dbt's `unique` and `not_null` in one query: one pass over the table instead of two, and
    one test node per key instead of two (a build's tests cost dbt more than their SQL). -#}
{% test primary_key(model, column_name) %}
select {{ column_name }} as key_value, count(*) as n_records
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1
{% endtest %}
