-- 不足时按比例兑现: for each budget group and award year with a declared budget, the payable
-- amounts on the list never add up to more than the budget (pro rata rounds down to the fen).
select
    e.budget_group,
    e.award_year,
    sum(e.payable_amount) as payable_total,
    b.budget_yuan
from {{ ref('fct_entitlements') }} as e
inner join {{ ref('stg_policy__budgets') }} as b
    on b.budget_group = e.budget_group and b.budget_year = e.award_year
where e.status = 'payable'
group by e.budget_group, e.award_year, b.budget_yuan
having sum(e.payable_amount) > b.budget_yuan
