-- Yearly budgets declared for clause groups (资金以当年专项为限，不足时按比例兑现).
select budget_group, budget_year, yuan as budget_yuan
from {{ source('policy', 'budgets') }}
