-- Yearly caps shared by several clauses (e.g. 以上奖励补助合计每年每家孵化器最高500万元).
select cap_group, yuan as cap_yuan, clause_id
from {{ source('policy', 'annual_cap_groups') }}
