{#- numerator / denominator rounded half up to `scale` decimals, exactly, as DECIMAL(18, scale).
    DuckDB turns DECIMAL division into DOUBLE, which can round a half-cent the wrong way, so on DuckDB
    the division is done in integers: round_half_up(u / d) = floor((2u + d) / 2d) for u, d > 0 (a
    ratio such as a cap's share used, 5,509,000 / 20,000,000 = 0.27545, is 0.2755 on every engine). -#}
{% macro divide_round_half_up(numerator, denominator, scale=2) -%}
    {{ return(adapter.dispatch('divide_round_half_up', 'subsidy_warehouse')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__divide_round_half_up(numerator, denominator, scale=2) -%}
    {#- the denominator in parentheses: it may be an expression such as `100 * day_count` -#}
    cast(round(cast({{ numerator }} as decimal(38, 12)) / ({{ denominator }}), {{ scale }}) as decimal(18, {{ scale }}))
{%- endmacro %}

{% macro duckdb__divide_round_half_up(numerator, denominator, scale=2) -%}
    {#- both counted in 10^-6 units (integers), the numerator times 10^scale: the quotient counts 10^-scale units -#}
    {%- set units = "(cast(cast(" ~ numerator ~ " as decimal(38, 6)) * 1000000 as hugeint) * " ~ (10 ** scale) ~ ")" -%}
    {%- set divisor = "cast(cast(" ~ denominator ~ " as decimal(38, 6)) * 1000000 as hugeint)" -%}
    cast(
        cast((2 * {{ units }} + {{ divisor }}) // (2 * {{ divisor }}) as decimal(38, 0))
        * cast({{ 1 / (10 ** scale) }} as decimal(18, {{ scale }}))
    as decimal(18, {{ scale }}))
{%- endmacro %}
