-- The award years, each with its bit in top_beneficiaries.year_mask (written by `subsidy dashboards build`).
select award_year, year_bit from dashboard.award_years order by award_year
