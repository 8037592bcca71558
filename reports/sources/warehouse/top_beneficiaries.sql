-- The ten beneficiaries with the most money approved (marts.fct_awards) for every choice the 总览 page offers:
-- each set of award years (year_mask = the sum of award_years.year_bit of the years chosen) and each bureau
-- ('%' = all bureaus). With 5 award years: 31 sets × 9 choices × 10 rows. Amounts in 万元.
-- Only beneficiaries that can reach a set's top ten are summed over it: the ten largest of any one year of the set
-- are each at least their amount of that year, so whoever has less than that in all years together cannot.
with per_year_bureau as (
    select
        beneficiary_id,
        cast(award_year as varchar) as award_year,
        approving_bureau,
        count(*) as award_count,
        sum(approved_amount) as approved_amount,
        sum(disbursed_amount) as disbursed_amount
    from marts.fct_awards
    group by all
),

per_year as (
    select
        beneficiary_id,
        award_year,
        approving_bureau as bureau_choice,
        award_count,
        approved_amount,
        disbursed_amount
    from per_year_bureau
    union all
    select beneficiary_id, award_year, '%', sum(award_count), sum(approved_amount), sum(disbursed_amount)
    from per_year_bureau
    group by all
),

-- an upper bound of what a beneficiary can have in any set of years
ceilings as (
    select beneficiary_id, bureau_choice, sum(greatest(approved_amount, 0)) as ceiling_amount
    from per_year
    group by all
),

-- the tenth largest amount of each year (0 when fewer than ten beneficiaries had awards that year)
tenth_of_year as (
    select
        bureau_choice,
        award_year,
        coalesce(max(approved_amount) filter (where rank_no = 10), 0) as tenth_amount
    from (
        select
            *,
            row_number() over (partition by bureau_choice, award_year order by approved_amount desc) as rank_no
        from per_year
    )
    group by all
),

year_sets as (
    select m.range as year_mask, y.award_year
    from range(1, (select cast(sum(year_bit) as bigint) + 1 from dashboard.award_years)) as m
    inner join dashboard.award_years as y on m.range & y.year_bit <> 0
),

floors as (
    select s.year_mask, t.bureau_choice, max(t.tenth_amount) as floor_amount
    from year_sets as s
    inner join tenth_of_year as t on s.award_year = t.award_year
    group by all
),

totals as (
    select
        s.year_mask,
        p.bureau_choice,
        p.beneficiary_id,
        sum(p.award_count) as award_count,
        sum(p.approved_amount) as approved_amount,
        sum(p.disbursed_amount) as disbursed_amount
    from per_year as p
    inner join ceilings as c on p.beneficiary_id = c.beneficiary_id and p.bureau_choice = c.bureau_choice
    inner join year_sets as s on p.award_year = s.award_year
    inner join floors as f on s.year_mask = f.year_mask and p.bureau_choice = f.bureau_choice
    where c.ceiling_amount >= f.floor_amount
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by year_mask, bureau_choice order by approved_amount desc, beneficiary_id
        ) as rank_no
    from totals
)

select
    r.year_mask,
    r.bureau_choice,
    r.rank_no,
    r.beneficiary_id,
    b.beneficiary_name,
    b.beneficiary_type_zh,
    r.award_count,
    cast(r.approved_amount / 10000 as double) as approved_wan,
    cast(r.disbursed_amount / 10000 as double) as disbursed_wan
from ranked as r
left join marts.dim_beneficiaries as b on r.beneficiary_id = b.beneficiary_id
where r.rank_no <= 10
order by 1, 2, 3
