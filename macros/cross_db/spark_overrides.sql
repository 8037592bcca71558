{#- dbt-spark macros this project overrides (dbt searches the root project first). -#}

{#- Seeds on Spark. dbt-spark's session method pastes each value into the INSERT unescaped (an apostrophe in
    a description breaks the statement) and numbers as floats; here every value is written as a literal
    instead: text quoted with \ and ' escaped, numbers as they are written in the file, empty cells null. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ subsidy_warehouse.spark_literal(row[loop.index0]) }} as {{ type }}){{ "," if not loop.last }}
                {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string).replace("\\", "\\\\").replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{#- dbt-spark's listagg ignores its order (a warning): sort (key, value) pairs, then join the values. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set key = (order_by_clause or 'order by null') | replace('order by', '') | trim -%}
    {%- set pairs = "array_sort(collect_list(named_struct('key', " ~ key ~ ", 'value', " ~ measure ~ ")))" -%}
    {%- set values = "transform(" ~ pairs ~ ", pair -> pair.value)" -%}
    array_join({{ "slice(" ~ values ~ ", 1, " ~ limit_num ~ ")" if limit_num else values }}, {{ delimiter_text }})
{%- endmacro %}
