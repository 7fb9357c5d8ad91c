-- wrk script for bench/intake.py: every request a fresh lead (unique phone and company, the
-- same scheme as intake.py), with 5% repeats of the leads seeded into the database.
-- Arguments: token, seeded lead count, first n of this run.
local counter = 0
local threads = {}
-- thread_id is a global that setup() gives each thread's own Lua state (thread:set); a
-- chunk-level `local thread_id` would shadow it, and every thread would send the same leads

-- keep these lists in step with bench/intake.py
local cities = {"北京", "上海", "苏州", "杭州", "广州", "深圳", "成都", "武汉", "西安", "南京", "青岛", "长沙"}
local words = {}
for ch in ("恒瑞华信博远中星河丰鼎盛海纳众诚天成金桥宏达新元卓越锦程安泰弘毅凯德润和汇通明景同创嘉禾正晟智联云帆青松蓝德鑫"):gmatch("[\xE0-\xEF][\x80-\xBF][\x80-\xBF]") do
  table.insert(words, ch)
end
local trades = {"精密机械", "电子", "新材料", "商贸", "教育科技", "医疗器械", "网络科技", "供应链管理", "新能源", "置业"}
local industries = {"制造业", "零售业", "教育", "医疗健康", "互联网", "物流", "能源", "房地产"}
local channels = {"G", "H", "K", "S", "HZ", "SS", "SJ", "D", "N", "DT", "L"}
local needs = {"采购设备，用于产线自动化改造", "需要CRM系统，销售团队约50人", "了解一下产品功能和价格",
               "招标：智慧校园平台建设", "需要方案报价，对比3家供应商", "升级门店收银与会员系统"}
local prefixes = {"139", "158", "186", "177", "133", "150"}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local function pick(list, n) return list[(n % #list) + 1] end

local function phone(n)
  local body = (n * 7919 + 12345678) % 100000000
  return string.format("%s%08d", pick(prefixes, n * 31 + 7), body)
end

local function company(n)
  return pick(cities, n) .. pick(words, n) .. pick(words, math.floor(n / 60)) .. pick(words, math.floor(n / 3600))
    .. pick(trades, n * 3) .. string.format("%d号有限公司", n)
end

request = function()
  counter = counter + 1
  local n = base + thread_id * 1000000 + counter
  local p
  if math.random() < 0.05 then p = phone(math.random(0, seeded - 1)) else p = phone(n) end
  local body = string.format(
    '{"channel":"%s","company_name":"%s","contact_name":"王经理","phone":"%s","industry":"%s","need":"%s"}',
    pick(channels, n), company(n), p, pick(industries, n * 3), pick(needs, n * 5))
  return wrk.format("POST", "/api/v1/leads", {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function init(args)
  token = args[1]
  seeded = tonumber(args[2])
  base = tonumber(args[3])
end

done = function(summary, latency, requests)
  local codes = {}
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
