#!/usr/bin/env python3
"""Writes the pack fixtures of tests/services/pack_test.cc. Run from this folder; the outputs are
committed, so the tests need no Python."""
import struct
import zipfile
import zlib


def png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"

MANIFEST = '{"format":"pavilion-pack","version":1,"products":"products.ndjson"}'
PRODUCTS = "\n".join([
    '{"outer_id":"GZ-001","title":"古丈毛尖 明前特级","brand":"古丈毛尖","category":"tea",'
    '"certifications":[{"type":"sc_licence","number":"SC11443312600014","valid_to":"2099-12-31"}],'
    '"skus":[{"spec":"250g罐装","price_fen":12800,"stock":100},{"spec":"500g礼盒","price_fen":16800,"stock":200}],'
    '"subtitle":"明前手工","description":"<p>高山云雾</p>","images":["front.png","images/side.jpg"],'
    '"params":[{"name":"产地","value":"湖南古丈"},{"name":"净含量","value":"250g"}],'
    '"weight_grams":600,"barcode":"6901234567890"}',
    '{"outer_id":"QX-EGG","title":"沁县土鸡蛋","category":"eggs","images":["https://img.example.com/egg.jpg"],'
    '"skus":[{"spec":"30枚","price_fen":4500,"stock":50}]}',
    '{"outer_id":"BAD-1","title":"核桃","skus":[{"spec":"250g","price_fen":"3580","stock":20}]}',
    '{"outer_id":"BAD-2","title":"枣","images":["missing.jpg"],"skus":[{"spec":"1kg","price_fen":3000,"stock":5}]}',
]) + "\n"


def native(name, extra=()):
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", MANIFEST)
        z.writestr("products.ndjson", PRODUCTS)
        z.writestr("images/front.png", png())
        z.writestr("images/side.jpg", JPEG)
        for info, data in extra:
            z.writestr(info, data)


native("native.zip")
native("traversal.zip", [("images/../../evil.png", png())])
native("absolute.zip", [("/etc/cron.d/evil", "x")])
link = zipfile.ZipInfo("images/link.png")
link.external_attr = (0o120777 << 16)
link.create_system = 3
native("symlink.zip", [(link, "/etc/passwd")])
with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("manifest.json", MANIFEST)
    z.writestr("products.ndjson", PRODUCTS)
    z.writestr("images/bomb.png", b"\x89PNG\r\n\x1a\n" + bytes(100 << 20))
with zipfile.ZipFile("version2.zip", "w") as z:
    z.writestr("manifest.json", '{"format":"pavilion-pack","version":2}')
    z.writestr("products.ndjson", PRODUCTS)

KEYS = ["title", "cid", "price", "num", "description", "cateProps", "picture", "skuProps",
        "inputPids", "inputValues", "outer_id", "propAlias", "foodparame", "item_weight",
        "barcode", "subtitle", "input_custom_cpv"]
LABELS = ["宝贝名称", "宝贝类目", "宝贝价格", "宝贝数量", "宝贝描述", "宝贝属性", "新图片",
          "销售属性组合", "用户输入ID串", "用户输入名-值对", "商家编码", "销售属性别名", "食品专项",
          "物流重量", "商品条形码", "宝贝卖点", "自定义属性值"]
ROWS = [
    {"title": "古丈毛尖 明前特级", "cid": "50008141", "price": "128.00", "num": "300",
     "description": '<p>高山云雾, "明前"</p>\n<p>手工炒制</p>',
     "cateProps": "122216608:3323491;", "picture": "a1b2c3:0:0:|;:1:1:|https://img.example.com/gz.jpg;",
     "skuProps": "128.00:100:GZ-001-a:1627207:-1001;168.00:200:GZ-001-b:1627207:-1002;",
     "inputPids": "20000", "inputValues": "古丈毛尖", "outer_id": "GZ-001",
     "foodparame": "生产许可证编号:SC11443312600014;保质期:540", "item_weight": "0.6",
     "barcode": "6901234567890", "subtitle": "明前手工",
     "input_custom_cpv": "1627207:-1001:250g罐装;1627207:-1002:500g礼盒;"},
    {"title": "没有商家编码", "price": "10.00", "num": "1"},
    {"title": "价格不对", "price": "abc", "num": "1", "outer_id": "BAD-PRICE"},
    {"title": "绿茶 无证", "cid": "50008141", "price": "30.5", "num": "9", "outer_id": "NO-SC"},
    {"title": "沁州黄小米", "price": "29.9", "num": "500", "outer_id": "QZH-001",
     "skuProps": "29.90:200::1627207:28320;20509:28314;", "picture": "missing:0:0:|;"},
]
MAPPING = ("# Taobao ids of this shop's categories and properties\n"
           "category\t50008141\ttea\nproperty\t122216608\t产地\nvalue\t122216608:3323491\t湖南古丈\n"
           "property\t20000\t品牌\nvalue\t1627207:28320\t白色\nvalue\t20509:28314\t均码\n")


def csv(delim, rows, quote_all=False):
    def field(v):
        if quote_all or any(c in v for c in (delim, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v
    lines = ["version 1.00", delim.join(KEYS), delim.join(LABELS)]
    for r in rows:
        lines.append(delim.join(field(r.get(k, "")) for k in KEYS))
    return "\r\n".join(lines) + "\r\n"


with zipfile.ZipFile("taobao_utf16.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("tea.csv", b"\xff\xfe" + csv("\t", ROWS).encode("utf-16-le"))
    z.writestr("tea/a1b2c3.tbi", JPEG)
    z.writestr("mapping.tsv", MAPPING)
with open("taobao_gbk.csv", "wb") as f:
    f.write(csv(",", [ROWS[0], ROWS[4]], quote_all=True).encode("gbk"))
with open("mapping.tsv", "w") as f:
    f.write(MAPPING)
