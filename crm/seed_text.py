"""Words for the demo-data generator: names, places, carriers and message templates.

Everything here was written for this project. Templates take `str.format` fields:
`{order}` (order number), `{product}` (product name in the customer's language),
`{date}` (a date), `{amount}` (money) and `{name}` (agent name).
"""

from __future__ import annotations

from typing import NamedTuple

# --- people ------------------------------------------------------------------------

EN_FIRST = (
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Steven",
    "Sandra",
    "Paul",
    "Ashley",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kevin",
    "Michelle",
    "Brian",
    "Carol",
    "George",
    "Amanda",
    "Edward",
    "Melissa",
    "Ryan",
    "Deborah",
    "Jacob",
    "Laura",
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "Jack",
    "Ava",
    "Noah",
    "Mia",
    "Liam",
    "Grace",
    "Ethan",
    "Chloe",
    "Lucas",
    "Zoe",
    "Aiden",
    "Ruby",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Sofia",
    "Mateo",
)
EN_LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Patel",
    "Nguyen",
    "Kim",
    "Singh",
    "O'Brien",
    "Kelly",
    "Hughes",
    "Price",
    "Bennett",
    "Wood",
)
ZH_SURNAMES = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
    ("何", "He"),
    ("林", "Lin"),
    ("罗", "Luo"),
    ("高", "Gao"),
    ("郑", "Zheng"),
    ("梁", "Liang"),
    ("谢", "Xie"),
    ("宋", "Song"),
    ("唐", "Tang"),
    ("韩", "Han"),
    ("冯", "Feng"),
    ("邓", "Deng"),
    ("曹", "Cao"),
    ("彭", "Peng"),
    ("曾", "Zeng"),
    ("萧", "Xiao"),
    ("田", "Tian"),
    ("董", "Dong"),
    ("潘", "Pan"),
    ("袁", "Yuan"),
    ("蔡", "Cai"),
    ("蒋", "Jiang"),
    ("余", "Yu"),
    ("叶", "Ye"),
)
ZH_GIVEN = (
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("霞", "Xia"),
    ("平", "Ping"),
    ("刚", "Gang"),
    ("晨", "Chen"),
    ("秀英", "Xiuying"),
    ("桂英", "Guiying"),
    ("欣怡", "Xinyi"),
    ("子涵", "Zihan"),
    ("浩然", "Haoran"),
    ("雨桐", "Yutong"),
    ("梓轩", "Zixuan"),
    ("思远", "Siyuan"),
    ("佳怡", "Jiayi"),
    ("俊杰", "Junjie"),
    ("嘉欣", "Jiaxin"),
    ("一鸣", "Yiming"),
    ("晓燕", "Xiaoyan"),
    ("建华", "Jianhua"),
    ("文博", "Wenbo"),
    ("雅琪", "Yaqi"),
    ("宇航", "Yuhang"),
    ("诗涵", "Shihan"),
    ("志强", "Zhiqiang"),
    ("海燕", "Haiyan"),
    ("梦洁", "Mengjie"),
    ("天宇", "Tianyu"),
    ("若曦", "Ruoxi"),
    ("博文", "Bowen"),
)
# Some Chinese customers go by an English given name in name_en ("Kevin Wang").
ZH_ENGLISH_GIVEN = (
    "Kevin",
    "Vivian",
    "Jason",
    "Cindy",
    "Eric",
    "Grace",
    "Tony",
    "Amy",
    "Jack",
    "Lily",
    "Leo",
    "Coco",
    "Andy",
    "Sunny",
    "Frank",
    "Iris",
)

EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


class City(NamedTuple):
    name: str
    country: str  # ISO code: US, CA, GB, AU, CN
    region: str  # state, province or district shown in addresses
    postcode: str
    area: str  # phone area code (national, without trunk prefix)


EN_CITIES = (
    City("New York", "US", "NY", "10001", "212"),
    City("Los Angeles", "US", "CA", "90012", "213"),
    City("Chicago", "US", "IL", "60601", "312"),
    City("San Francisco", "US", "CA", "94103", "415"),
    City("Seattle", "US", "WA", "98101", "206"),
    City("Boston", "US", "MA", "02108", "617"),
    City("Austin", "US", "TX", "73301", "512"),
    City("Denver", "US", "CO", "80202", "303"),
    City("Atlanta", "US", "GA", "30303", "404"),
    City("Toronto", "CA", "ON", "M5H 2N2", "416"),
    City("Vancouver", "CA", "BC", "V6B 1A1", "604"),
    City("London", "GB", "", "EC1A 1BB", "7700"),
    City("Manchester", "GB", "", "M1 1AE", "7700"),
    City("Edinburgh", "GB", "", "EH1 1YZ", "7700"),
    City("Sydney", "AU", "NSW", "2000", "491"),
    City("Melbourne", "AU", "VIC", "3000", "491"),
)
EN_CITY_WEIGHTS = (12, 9, 7, 7, 6, 5, 4, 4, 4, 6, 4, 10, 4, 3, 9, 6)

ZH_CITIES = (
    City("上海", "CN", "浦东新区", "200120", ""),
    City("北京", "CN", "朝阳区", "100020", ""),
    City("广州", "CN", "天河区", "510620", ""),
    City("深圳", "CN", "南山区", "518052", ""),
    City("杭州", "CN", "西湖区", "310012", ""),
    City("成都", "CN", "武侯区", "610041", ""),
    City("南京", "CN", "鼓楼区", "210008", ""),
    City("武汉", "CN", "江汉区", "430022", ""),
    City("西安", "CN", "雁塔区", "710061", ""),
    City("重庆", "CN", "渝中区", "400010", ""),
    City("苏州", "CN", "姑苏区", "215002", ""),
    City("天津", "CN", "和平区", "300041", ""),
)
ZH_CITY_WEIGHTS = (14, 13, 10, 10, 8, 8, 6, 6, 5, 6, 7, 7)

EN_STREETS = (
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Park Rd",
    "Elm St",
    "Lake View Rd",
    "Hill St",
    "Church Rd",
    "Station Rd",
    "High St",
    "King St",
    "Queen St",
    "Harbour St",
    "Market St",
    "River Rd",
)
ZH_STREETS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "南京路",
    "世纪大道",
    "文化路",
    "新华路",
    "学府路",
    "科技路",
    "滨江路",
    "朝阳路",
)
ZH_MOBILE_PREFIXES = (
    "138",
    "139",
    "136",
    "150",
    "151",
    "158",
    "186",
    "188",
    "177",
    "199",
    "135",
    "133",
)

COUNTRY_NAMES = {"US": "USA", "CA": "Canada", "GB": "United Kingdom", "AU": "Australia"}

# --- shipping and billing ----------------------------------------------------------

EN_CARRIERS = ("UPS", "FedEx", "USPS", "DHL")
ZH_CARRIERS = ("SF Express", "JD Logistics", "China Post EMS", "ZTO Express")
EN_HUBS = (
    "Louisville, KY",
    "Memphis, TN",
    "Chicago, IL",
    "Ontario, CA",
    "Newark, NJ",
    "Dallas, TX",
    "Leipzig hub",
    "East Midlands hub",
    "Sydney gateway",
)
ZH_HUBS = (
    "上海转运中心",
    "广州分拨中心",
    "北京转运中心",
    "武汉转运中心",
    "成都分拨中心",
    "杭州转运中心",
    "深圳分拨中心",
)
PAYMENT_FAILURES = {
    "card": (
        "card_declined",
        "insufficient_funds",
        "expired_card",
        "authentication_failed",
        "processing_error",
    ),
    "paypal": ("paypal_account_restricted", "insufficient_funds", "processing_error"),
    "alipay": ("insufficient_balance", "payment_timeout", "risk_control_declined"),
    "wechat_pay": ("insufficient_balance", "payment_timeout", "user_cancelled"),
}
REFUND_REASONS = {
    "damaged_item": "item damaged in transit",
    "returned": "returned within 30 days",
    "product_quality": "product defect",
}
AGENT_NAMES_EN = ("Sam", "Alex", "Jordan", "Taylor", "Morgan", "Casey")
AGENT_NAMES_ZH = ("小李", "小王", "小张", "小陈", "小刘", "小周")

# --- conversations ---------------------------------------------------------------

T = dict[str, tuple[str, ...]]

# What a customer types for each intent, by language; negative/positive variants
# live under "<intent>:neg" and "<intent>:pos".
USER: dict[str, T] = {
    "greet": {
        "en": ("hi", "hello", "hey there", "good morning", "hi, anyone there?"),
        "zh": ("你好", "您好", "在吗", "早上好", "哈喽"),
    },
    "thanks": {
        "en": ("thanks!", "thank you, that helps", "great, thanks a lot", "cheers"),
        "zh": ("谢谢", "好的，谢谢你", "太好了，谢谢", "明白了，感谢"),
    },
    "goodbye": {
        "en": ("bye", "ok bye", "that's all, bye"),
        "zh": ("再见", "好的，拜拜", "没别的了，再见"),
    },
    "affirm": {"en": ("yes", "yes please", "ok"), "zh": ("是的", "好的", "可以")},
    "inform": {
        "en": ("it's {order}", "order {order}", "{order}"),
        "zh": ("订单号是{order}", "{order}", "单号{order}"),
    },
    "order_status": {
        "en": (
            "where is my order {order}?",
            "can you track order {order}",
            "when will {order} arrive?",
            "what's the status of my order {order}",
        ),
        "zh": (
            "我的订单{order}到哪了？",
            "帮我查一下订单{order}",
            "{order}什么时候到？",
            "查询订单{order}的物流",
        ),
    },
    "order_status:neg": {
        "en": (
            "my order {order} was supposed to arrive on {date} and it's still not here",
            "where is {order}?? it's days late",
            "order {order} is late again, what is going on",
        ),
        "zh": (
            "订单{order}说{date}送到，到现在还没到",
            "{order}怎么还没到？都晚了好几天了",
            "我的订单{order}又延误了，怎么回事",
        ),
    },
    "complain:late_delivery": {
        "en": (
            "this is the second time my delivery is late",
            "the courier keeps delaying my package, really frustrating",
            "I paid for shipping and it's a week late",
        ),
        "zh": (
            "这已经是第二次快递延误了",
            "快递一直拖着不送，太让人生气了",
            "付了运费还晚了一个星期",
        ),
    },
    "request_refund": {
        "en": (
            "I want a refund for {order}",
            "please refund my order {order}",
            "can I get my money back for the {product}?",
        ),
        "zh": (
            "我要申请退款，订单{order}",
            "请给订单{order}退款",
            "{product}能退款吗？",
        ),
    },
    "complain:damaged_item": {
        "en": (
            "my {product} arrived broken",
            "the box was crushed and the {product} is damaged",
            "the {product} came with a cracked screen",
        ),
        "zh": (
            "收到的{product}是坏的",
            "箱子压扁了，{product}也摔坏了",
            "{product}到手就有裂痕",
        ),
    },
    "refund_status": {
        "en": (
            "where is my refund for {order}?",
            "any news on my refund?",
            "my refund for {order} still hasn't arrived",
        ),
        "zh": (
            "订单{order}的退款到哪了？",
            "我的退款有进展吗？",
            "{order}的退款还没到账",
        ),
    },
    "complain:refund_slow": {
        "en": (
            "it's been two weeks and still no refund",
            "why does a refund take this long?",
            "I keep waiting for my money back",
        ),
        "zh": ("都两个星期了还没退款", "退款为什么这么慢？", "一直在等退款，太慢了"),
    },
    "payment_issue": {
        "en": (
            "my card was declined",
            "the payment for my subscription failed",
            "why did my payment not go through?",
        ),
        "zh": ("我的卡被拒了", "订阅扣款失败了", "为什么付款不成功？"),
    },
    "payment_issue:neg": {
        "en": (
            "I was charged twice this month",
            "you billed me the wrong amount",
            "there's a charge of {amount} I don't recognise",
        ),
        "zh": ("这个月被扣了两次钱", "扣款金额不对", "有一笔{amount}的扣款我不认识"),
    },
    "complain:billing_error": {
        "en": (
            "this billing mistake is unacceptable",
            "fix the double charge now please",
            "every month there is a problem with the bill",
        ),
        "zh": ("这种扣费错误不能接受", "请马上处理重复扣款", "每个月账单都有问题"),
    },
    "faq/recover_password": {
        "en": ("I forgot my password", "how do I reset my password?"),
        "zh": ("忘记密码了", "怎么重置密码？"),
    },
    "faq/registration_problems": {
        "en": (
            "I can't sign up, the form gives an error",
            "registration keeps failing",
        ),
        "zh": ("注册不了，一直报错", "注册总是失败"),
    },
    "complain:app_bug": {
        "en": (
            "the app keeps crashing when I open my orders",
            "the app logs me out every time",
            "the checkout page freezes in the app",
        ),
        "zh": ("打开订单页面App就闪退", "App老是自动退出登录", "App结账页面卡住不动"),
    },
    "complain:product_quality": {
        "en": (
            "the {product} stopped working after a week",
            "the {product} is much worse than described",
            "my {product} makes a strange noise",
        ),
        "zh": (
            "{product}用了一个星期就坏了",
            "{product}跟描述的差太多了",
            "{product}有奇怪的噪音",
        ),
    },
    "complain:rude_service": {
        "en": ("the agent I spoke to was rude", "your support person hung up on me"),
        "zh": ("客服态度很差", "客服直接挂了我的电话"),
    },
    "human_handoff": {
        "en": ("I want to talk to a real person", "agent please", "get me a human"),
        "zh": ("转人工", "我要找人工客服", "请让真人客服来"),
    },
    "check_subscription": {
        "en": (
            "what plan am I on?",
            "when does my subscription renew?",
            "show my subscription",
        ),
        "zh": ("我现在是什么套餐？", "我的订阅什么时候续费？", "查看我的订阅"),
    },
    "change_subscription": {
        "en": ("I'd like to upgrade my plan", "can I switch to a cheaper plan?"),
        "zh": ("我想升级套餐", "能换个便宜点的套餐吗？"),
    },
    "cancel_subscription": {
        "en": (
            "cancel my subscription",
            "I want to stop my plan",
            "please end my membership",
        ),
        "zh": ("取消我的订阅", "我不想续费了", "请帮我退订会员"),
    },
    "faq/cancellation_fees": {
        "en": ("is there a fee if I cancel?", "what does it cost to cancel my plan?"),
        "zh": ("取消订阅要收费吗？", "退订有违约金吗？"),
    },
    "get_invoice": {
        "en": ("can I get the invoice for {order}?", "send me my receipt please"),
        "zh": ("能开订单{order}的发票吗？", "请把收据发给我"),
    },
    "faq/delivery_options": {
        "en": ("what delivery options do you have?", "how much is express shipping?"),
        "zh": ("有哪些配送方式？", "加急快递多少钱？"),
    },
    "faq/payment_methods": {
        "en": ("which payment methods do you accept?", "can I pay with PayPal?"),
        "zh": ("支持哪些付款方式？", "可以用支付宝吗？"),
    },
    "faq/refund_policy": {
        "en": ("what is your return policy?", "how many days do I have to return?"),
        "zh": ("退货政策是什么？", "几天内可以退货？"),
    },
    "faq/contact_customer_service": {
        "en": ("what are your opening hours?", "what's your support phone number?"),
        "zh": ("客服几点上班？", "客服电话是多少？"),
    },
    "change_shipping_address": {
        "en": (
            "I moved, please update my delivery address",
            "can you ship {order} to a different address?",
        ),
        "zh": ("我搬家了，请更新收货地址", "订单{order}能改地址吗？"),
    },
    "edit_account": {
        "en": ("I need to change my phone number", "update my email address please"),
        "zh": ("我要改手机号", "请帮我修改邮箱"),
    },
    "newsletter_subscribe": {
        "en": ("sign me up for the newsletter",),
        "zh": ("我想订阅新闻邮件",),
    },
    "newsletter_unsubscribe": {
        "en": ("stop sending me marketing emails",),
        "zh": ("别再给我发营销邮件了",),
    },
    "cancel_order": {
        "en": ("please cancel order {order}",),
        "zh": ("请取消订单{order}",),
    },
    "change_order": {
        "en": ("can I add another item to {order}?", "change the quantity on {order}"),
        "zh": ("订单{order}能再加一件吗？", "修改订单{order}的数量"),
    },
    "give_feedback:pos": {
        "en": (
            "just wanted to say the {product} is great",
            "delivery was super fast, well done",
        ),
        "zh": ("{product}很好用，点赞", "送货好快，给你们好评"),
    },
    "out_of_scope": {
        "en": ("what's the weather tomorrow?", "tell me a joke"),
        "zh": ("明天天气怎么样？", "讲个笑话"),
    },
}

# What the bot answers, by reply kind.
BOT: dict[str, T] = {
    "greet": {
        "en": ("Hi! How can I help you today?",),
        "zh": ("您好！请问有什么可以帮您？",),
    },
    "ask_order": {
        "en": ("Sure, what is your order number?",),
        "zh": ("好的，请提供订单号。",),
    },
    "order_status": {
        "en": (
            "Order {order} is on its way and should arrive by {date}.",
            "Your order {order} has been shipped; estimated delivery {date}.",
        ),
        "zh": (
            "订单{order}正在配送中，预计{date}送达。",
            "您的订单{order}已发货，预计{date}到。",
        ),
    },
    "delivered": {
        "en": (
            "Order {order} was delivered on {date}.",
            "Our records show {order} was delivered on {date}.",
        ),
        "zh": ("订单{order}已于{date}签收。", "记录显示订单{order}已在{date}送达。"),
    },
    "apology": {
        "en": (
            "I'm sorry about this. Let me look into it for you.",
            "I understand, and I apologise for the trouble.",
        ),
        "zh": (
            "非常抱歉给您带来不便，我来帮您查一下。",
            "理解您的心情，很抱歉给您添麻烦了。",
        ),
    },
    "refund_started": {
        "en": ("I've opened a refund for {order}; you'll hear from us within 5 days.",),
        "zh": ("已为订单{order}提交退款申请，5个工作日内会有结果。",),
    },
    "refund_status": {
        "en": ("Your refund for {order} is being processed.",),
        "zh": ("订单{order}的退款正在处理中。",),
    },
    "payment_help": {
        "en": ("Please check your card details; we'll retry the payment in 3 days.",),
        "zh": ("请检查一下支付信息，我们会在3天后重新扣款。",),
    },
    "password_help": {
        "en": ("You can reset your password from the sign-in page.",),
        "zh": ("您可以在登录页面点击“忘记密码”进行重置。",),
    },
    "subscription": {
        "en": ("You're on the {product} plan; it renews on {date}.",),
        "zh": ("您当前是{product}套餐，将于{date}续费。",),
    },
    "faq": {
        "en": (
            "Here is what you need to know: see our help page for details.",
            "Good question! I've sent you the details.",
        ),
        "zh": ("相关说明请查看帮助页面。", "好问题！详细信息已发送给您。"),
    },
    "done": {
        "en": ("Done! Anything else I can help with?",),
        "zh": ("已经处理好了！还有什么可以帮您？",),
    },
    "handoff": {
        "en": ("I'm connecting you with a member of our team.",),
        "zh": ("正在为您转接人工客服。",),
    },
    "retention": {
        "en": ("I'm sorry to see you go. Your subscription is cancelled.",),
        "zh": ("很遗憾您要离开，您的订阅已取消。",),
    },
    "goodbye": {"en": ("Goodbye, have a nice day!",), "zh": ("再见，祝您生活愉快！",)},
    "fallback": {
        "en": ("Sorry, I didn't quite get that. Could you rephrase?",),
        "zh": ("抱歉，我没太明白，能换个说法吗？",),
    },
    "agent": {
        "en": ("Hi, this is {name} from support. I've sorted this out for you.",),
        "zh": ("您好，我是客服{name}，您的问题已经处理好了。",),
    },
}

# Feedback texts: a complaint theme's sentences plus an optional closing remark.
THEMES: dict[str, T] = {
    "late_delivery": {
        "en": (
            "My parcel arrived a week after the promised delivery date.",
            "Delivery was late again and nobody told me why.",
            "The courier kept postponing the delivery.",
            "Shipping took far longer than the estimated date.",
            "Late delivery, the tracking did not update for days.",
        ),
        "zh": (
            "包裹比承诺的送达时间晚了一个星期。",
            "快递又延误了，也没人告诉我原因。",
            "快递员一直推迟送货。",
            "配送时间比预计的长太多了。",
            "送货太慢，物流信息好几天都不更新。",
        ),
    },
    "damaged_item": {
        "en": (
            "The item arrived damaged and the box was crushed.",
            "Received a broken product, the packaging was terrible.",
            "The screen was cracked when I opened the package.",
            "Damaged on arrival, poor packaging.",
        ),
        "zh": (
            "收到的商品是坏的，箱子都压扁了。",
            "商品破损，包装太差了。",
            "打开包裹发现屏幕碎了。",
            "到货就是坏的，包装很敷衍。",
        ),
    },
    "refund_slow": {
        "en": (
            "My refund took weeks to come through.",
            "Still waiting for my refund after two weeks.",
            "The refund process is far too slow.",
            "Refund approved but the money never arrived.",
        ),
        "zh": (
            "退款拖了好几个星期才到账。",
            "两周了还在等退款。",
            "退款流程太慢了。",
            "退款批准了但钱一直没到。",
        ),
    },
    "billing_error": {
        "en": (
            "I was charged twice for my subscription.",
            "Wrong amount on my bill this month.",
            "Billing keeps charging me after I changed plan.",
            "Unexpected charge on my card, billing error.",
        ),
        "zh": (
            "订阅被重复扣费了。",
            "这个月账单金额不对。",
            "换了套餐后还在按原价扣费。",
            "信用卡上有一笔莫名的扣款，账单出错了。",
        ),
    },
    "rude_service": {
        "en": (
            "The support agent was rude and dismissive.",
            "Customer service was unfriendly and unhelpful.",
            "The agent hung up on me and never called back.",
            "Rude staff, nobody listened to my problem.",
        ),
        "zh": (
            "客服态度很差，爱答不理。",
            "客服很不友好，也解决不了问题。",
            "客服挂了我的电话，之后也没回电。",
            "工作人员很粗鲁，根本不听我说。",
        ),
    },
    "app_bug": {
        "en": (
            "The app crashes every time I open my orders.",
            "The app keeps logging me out.",
            "Checkout in the app freezes and the payment fails.",
            "Buggy app, I cannot reset my password.",
        ),
        "zh": (
            "每次打开订单页面App就闪退。",
            "App老是自动退出登录。",
            "App结账时卡死，付款也失败。",
            "App问题太多，密码都重置不了。",
        ),
    },
    "product_quality": {
        "en": (
            "The product stopped working after a few days.",
            "Quality is much worse than the description.",
            "The device makes a loud noise and overheats.",
            "Poor build quality, it broke quickly.",
        ),
        "zh": (
            "产品用了几天就坏了。",
            "质量和描述差太多了。",
            "机器噪音很大还发烫。",
            "做工很差，很快就坏了。",
        ),
    },
    "price": {
        "en": (
            "The subscription got too expensive after the price rise.",
            "Not worth the monthly price any more.",
            "Found a cheaper option elsewhere.",
            "Too expensive for what I actually use.",
        ),
        "zh": (
            "涨价以后订阅太贵了。",
            "月费不值这个价了。",
            "找到了更便宜的选择。",
            "用得不多，价格太高。",
        ),
    },
}
CLOSERS: T = {
    "en": (
        "Very disappointed.",
        "Please do better.",
        "Not happy at all.",
        "I expect a fix.",
        "",
    ),
    "zh": ("非常失望。", "希望改进。", "很不满意。", "请尽快处理。", ""),
}
PRAISE: T = {
    "en": (
        "Great service, the agent solved my problem quickly.",
        "Fast delivery and the product works perfectly.",
        "Very helpful chat, thank you!",
        "Love the {product}, will buy again.",
        "Easy to use and friendly support.",
    ),
    "zh": (
        "服务很好，客服很快解决了我的问题。",
        "送货快，产品也很好用。",
        "聊天很有帮助，谢谢！",
        "很喜欢{product}，还会再买。",
        "操作简单，客服也很热情。",
    ),
}
NEUTRAL: T = {
    "en": (
        "It was okay, took a while but got sorted.",
        "Average experience, nothing special.",
        "Problem solved in the end, but it took several messages.",
    ),
    "zh": (
        "还行，花了点时间但解决了。",
        "体验一般，没什么特别的。",
        "最后解决了，但沟通了好几次。",
    ),
}

# Ticket subjects by category; staff read them next to the customer's own words.
TICKET_SUBJECTS: T = {
    "delivery": ("Late delivery", "Parcel not arrived", "Courier delay"),
    "refund": ("Refund request", "Refund not received", "Damaged item refund"),
    "billing": ("Payment failed", "Double charge", "Wrong invoice amount"),
    "technical": ("App crash", "Cannot log in", "Password reset not working"),
    "product": ("Faulty product", "Product not as described"),
    "handoff": ("Customer asked for an agent", "Complaint about service"),
    "order_change": ("Change order", "Change delivery address", "Cancel order"),
    "account": ("Update account details", "Subscription question"),
}
