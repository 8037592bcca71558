{#- numerator / denominator rounded half up to `scale` decimals, exactly, as DECIMAL(18, scale).
    DuckDB turns DECIMAL division into DOUBLE, which can round a half-cent the wrong way, so on DuckDB
    the division is done in integers: round_half_up(u / d) = floor((2u + d) / 2d) for u, d > 0. -#}
{% macro divide_round_half_up(numerator, denominator, scale=2) -%}
    {{ return(adapter.dispatch('divide_round_half_up', 'subsidy_warehouse')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__divide_round_half_up(numerator, denominator, scale=2) -%}
    cast(round(cast({{ numerator }} as decimal(38, 12)) / {{ denominator }}, {{ scale }}) as decimal(18, {{ scale }}))
{%- endmacro %}

{% macro duckdb__divide_round_half_up(numerator, denominator, scale=2) -%}
    {#- numerator scaled to an integer count of 10^-6 units; result counted in 10^-scale units -#}
    {%- set units = "cast(cast(" ~ numerator ~ " as decimal(38, 6)) * 1000000 as hugeint)" -%}
    {%- set divisor = "(cast(" ~ denominator ~ " as hugeint) * " ~ (10 ** (6 - scale)) ~ ")" -%}
    cast(
        cast((2 * {{ units }} + {{ divisor }}) // (2 * {{ divisor }}) as decimal(38, 0))
        * cast({{ 1 / (10 ** scale) }} as decimal(18, {{ scale }}))
    as decimal(18, {{ scale }}))
{%- endmacro %}
