{#- Chinese words for the codes a detail sentence shows people (the code columns stay for analysts). -#}

{#- Beneficiary types, one or several separated by |: enterprise|institution → 企业、机构. -#}
{% macro types_zh(column) -%}
    {%- set expression = column -%}
    {%- for code, word in [('enterprise', '企业'), ('institution', '机构'), ('investor', '投资机构'), ('person', '个人'), ('|', '、')] -%}
        {%- set expression = "replace(" ~ expression ~ ", '" ~ code ~ "', '" ~ word ~ "')" -%}
    {%- endfor -%}
    {{ expression }}
{%- endmacro %}

{#- Application statuses. -#}
{% macro status_zh(column) -%}
    case {{ column }}
        when 'submitted' then '已提交'
        when 'approved' then '已批准'
        when 'rejected' then '已驳回'
        when 'withdrawn' then '已撤回'
        else {{ column }}
    end
{%- endmacro %}
