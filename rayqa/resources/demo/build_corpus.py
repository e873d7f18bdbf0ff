"""Build the rayqa multilingual demo corpus from the texts held below.

All paragraphs and questions were written for rayqa (see README.md); nothing here is
copied from a dataset or an encyclopedia. The towns, people and places (Sollby, Dornau,
the Velna, Mount Orvald, ...) are invented.

Run from anywhere:

    python rayqa/resources/demo/build_corpus.py            # rewrite the JSON files
    python rayqa/resources/demo/build_corpus.py --check    # exit 1 if they are stale

Every answer must occur exactly once in its paragraph: answer_start is computed with
``context.index(answer)`` and the build fails loudly on a missing or repeated answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGS = ("en", "de", "es", "fr", "zh", "ru", "ar", "hi")

# topic -> lang -> (title, context, train [(question, answer)], dev [(question, answer)])
# Dev questions reword train questions about the same paragraph and answer.
CORPUS: dict[str, dict[str, tuple]] = {}

CORPUS["lighthouse"] = {
    "en": (
        "Brenna Lighthouse",
        "Brenna Lighthouse stands on a rocky cape north of the fishing town of Sollby. "
        "It was built in 1874 and is 32 metres tall. The tower is painted in red and white "
        "stripes, and its light can be seen from 40 kilometres away. The last keeper, Tomas "
        "Aldring, left in 1969, when the lamp became automatic. Today the tower is a small "
        "museum that opens from May to September.",
        [
            ("When was Brenna Lighthouse built?", "1874"),
            ("How tall is Brenna Lighthouse?", "32 metres"),
            ("In what colours is the tower painted?", "red and white"),
            ("Who was the last keeper of the lighthouse?", "Tomas Aldring"),
            ("From how far away can the light be seen?", "40 kilometres"),
            ("Near which fishing town does the lighthouse stand?", "Sollby"),
        ],
        [
            ("In which year was Brenna Lighthouse constructed?", "1874"),
            ("What was the name of the lighthouse's final keeper?", "Tomas Aldring"),
        ],
    ),
    "de": (
        "Leuchtturm Brenna",
        "Der Leuchtturm Brenna steht auf einem felsigen Kap nördlich des Fischerstädtchens "
        "Sollby. Er wurde 1874 erbaut und ist 32 Meter hoch. Der Turm ist rot und weiß "
        "gestreift, und sein Licht ist aus 40 Kilometern Entfernung zu sehen. Der letzte "
        "Leuchtturmwärter, Tomas Aldring, ging 1969 fort, als die Lampe automatisiert wurde. "
        "Heute beherbergt der Turm ein kleines Museum, das von Mai bis September geöffnet ist.",
        [
            ("Wann wurde der Leuchtturm Brenna erbaut?", "1874"),
            ("Wie hoch ist der Leuchtturm Brenna?", "32 Meter"),
            ("In welchen Farben ist der Turm gestreift?", "rot und weiß"),
            ("Wer war der letzte Leuchtturmwärter?", "Tomas Aldring"),
            ("Aus welcher Entfernung ist das Licht zu sehen?", "40 Kilometern"),
            ("In der Nähe welcher Stadt steht der Leuchtturm?", "Sollby"),
        ],
        [
            ("In welchem Jahr wurde der Leuchtturm Brenna gebaut?", "1874"),
            ("Wie hieß der letzte Wärter des Leuchtturms?", "Tomas Aldring"),
        ],
    ),
    "es": (
        "Faro de Brenna",
        "El faro de Brenna se alza sobre un cabo rocoso al norte del pueblo pesquero de "
        "Sollby. Fue construido en 1874 y mide 32 metros de altura. La torre está pintada "
        "con franjas rojas y blancas, y su luz se ve desde 40 kilómetros de distancia. El "
        "último farero, Tomas Aldring, se marchó en 1969, cuando la lámpara pasó a ser "
        "automática. Hoy la torre alberga un pequeño museo que abre de mayo a septiembre.",
        [
            ("¿Cuándo fue construido el faro de Brenna?", "1874"),
            ("¿Cuánto mide el faro de Brenna?", "32 metros"),
            ("¿De qué colores son las franjas de la torre?", "rojas y blancas"),
            ("¿Quién fue el último farero?", "Tomas Aldring"),
            ("¿Desde qué distancia se ve su luz?", "40 kilómetros"),
            ("¿Cerca de qué pueblo pesquero está el faro?", "Sollby"),
        ],
        [
            ("¿En qué año se construyó el faro de Brenna?", "1874"),
            ("¿Cómo se llamaba el último farero de Brenna?", "Tomas Aldring"),
        ],
    ),
    "fr": (
        "Phare de Brenna",
        "Le phare de Brenna se dresse sur un cap rocheux au nord du village de pêcheurs de "
        "Sollby. Il a été construit en 1874 et mesure 32 mètres de haut. La tour est peinte "
        "de bandes rouges et blanches, et sa lumière est visible à 40 kilomètres. Le dernier "
        "gardien, Tomas Aldring, est parti en 1969, lorsque la lampe a été automatisée. "
        "Aujourd'hui, la tour abrite un petit musée ouvert de mai à septembre.",
        [
            ("Quand le phare de Brenna a-t-il été construit ?", "1874"),
            ("Quelle est la hauteur du phare de Brenna ?", "32 mètres"),
            ("De quelles couleurs sont les bandes de la tour ?", "rouges et blanches"),
            ("Qui était le dernier gardien du phare ?", "Tomas Aldring"),
            ("À quelle distance sa lumière est-elle visible ?", "40 kilomètres"),
            ("Près de quel village se trouve le phare ?", "Sollby"),
        ],
        [
            ("En quelle année le phare de Brenna a-t-il été bâti ?", "1874"),
            ("Comment s'appelait le dernier gardien du phare ?", "Tomas Aldring"),
        ],
    ),
    "zh": (
        "布伦纳灯塔",
        "布伦纳灯塔矗立在渔港小镇索尔比以北的一处岩石海岬上。灯塔建于1874年，高32米。"
        "塔身漆成红白相间的条纹，灯光在40公里外都能看到。最后一位守塔人托马斯·阿尔德林于"
        "1969年离开，那一年灯塔实现了自动化。如今，塔内设有一座小型博物馆，每年5月至9月开放。",
        [
            ("布伦纳灯塔建于哪一年？", "1874年"),
            ("布伦纳灯塔有多高？", "32米"),
            ("塔身漆成什么颜色？", "红白相间"),
            ("最后一位守塔人是谁？", "托马斯·阿尔德林"),
            ("灯光在多远的地方能看到？", "40公里"),
            ("灯塔位于哪个小镇以北？", "索尔比"),
        ],
        [
            ("布伦纳灯塔是哪一年建成的？", "1874年"),
            ("最后一位守塔人叫什么名字？", "托马斯·阿尔德林"),
        ],
    ),
    "ru": (
        "Маяк Бренна",
        "Маяк Бренна стоит на скалистом мысе к северу от рыбацкого городка Сольбю. Он был "
        "построен в 1874 году, его высота — 32 метра. Башня окрашена в красные и белые "
        "полосы, а её свет виден за 40 километров. Последний смотритель, Томас Алдринг, "
        "покинул маяк в 1969 году, когда лампу автоматизировали. Сегодня в башне находится "
        "небольшой музей, открытый с мая по сентябрь.",
        [
            ("Когда был построен маяк Бренна?", "1874"),
            ("Какова высота маяка Бренна?", "32 метра"),
            ("В какие цвета окрашены полосы башни?", "красные и белые"),
            ("Кто был последним смотрителем маяка?", "Томас Алдринг"),
            ("На каком расстоянии виден свет маяка?", "40 километров"),
            ("К северу от какого городка стоит маяк?", "Сольбю"),
        ],
        [
            ("В каком году построили маяк Бренна?", "1874"),
            ("Как звали последнего смотрителя маяка?", "Томас Алдринг"),
        ],
    ),
    "ar": (
        "منارة برينا",
        "تقع منارة برينا على رأس صخري شمال بلدة الصيد سولبي. بُنيت المنارة عام 1874 ويبلغ "
        "ارتفاعها 32 مترًا. طُلي البرج بخطوط حمراء وبيضاء، ويمكن رؤية ضوئها من مسافة 40 "
        "كيلومترًا. غادر آخر حارس للمنارة، توماس ألدرينغ، عام 1969 عندما أصبح المصباح يعمل "
        "آليًا. واليوم يضم البرج متحفًا صغيرًا يفتح أبوابه من مايو إلى سبتمبر.",
        [
            ("متى بُنيت منارة برينا؟", "1874"),
            ("ما ارتفاع منارة برينا؟", "32 مترًا"),
            ("ما لونا الخطوط التي طُلي بها البرج؟", "حمراء وبيضاء"),
            ("من كان آخر حارس للمنارة؟", "توماس ألدرينغ"),
            ("من أي مسافة يمكن رؤية ضوء المنارة؟", "40 كيلومترًا"),
            ("شمال أي بلدة تقع المنارة؟", "سولبي"),
        ],
        [
            ("في أي عام شُيّدت منارة برينا؟", "1874"),
            ("ما اسم آخر حارس لمنارة برينا؟", "توماس ألدرينغ"),
        ],
    ),
    "hi": (
        "ब्रेना प्रकाशस्तंभ",
        "ब्रेना प्रकाशस्तंभ मछुआरों के कस्बे सोलबी के उत्तर में एक चट्टानी अंतरीप पर खड़ा है। "
        "इसे 1874 में बनाया गया था और इसकी ऊँचाई 32 मीटर है। मीनार पर लाल और सफ़ेद धारियाँ "
        "रंगी गई हैं, और इसकी रोशनी 40 किलोमीटर दूर से दिखाई देती है। अंतिम रखवाले तोमस "
        "आल्ड्रिंग ने 1969 में यह जगह छोड़ दी, जब दीपक स्वचालित हो गया। आज मीनार में एक "
        "छोटा संग्रहालय है, जो मई से सितंबर तक खुला रहता है।",
        [
            ("ब्रेना प्रकाशस्तंभ कब बनाया गया था?", "1874"),
            ("ब्रेना प्रकाशस्तंभ की ऊँचाई कितनी है?", "32 मीटर"),
            ("मीनार पर किन रंगों की धारियाँ हैं?", "लाल और सफ़ेद"),
            ("प्रकाशस्तंभ के अंतिम रखवाले कौन थे?", "तोमस आल्ड्रिंग"),
            ("इसकी रोशनी कितनी दूर से दिखाई देती है?", "40 किलोमीटर"),
            ("प्रकाशस्तंभ किस कस्बे के उत्तर में है?", "सोलबी"),
        ],
        [
            ("ब्रेना प्रकाशस्तंभ किस वर्ष बना था?", "1874"),
            ("प्रकाशस्तंभ के आख़िरी रखवाले का नाम क्या था?", "तोमस आल्ड्रिंग"),
        ],
    ),
}

CORPUS["bread"] = {
    "en": (
        "Baking bread",
        "A simple loaf of bread needs only four ingredients: flour, water, salt and yeast, "
        "which fills the dough with tiny bubbles of gas. The dough is kneaded for about ten "
        "minutes and then left to rise for one hour in a warm place. After that it is shaped "
        "into a loaf and baked in an oven at 220 degrees for 35 minutes. The bread is ready "
        "when the crust turns golden brown and sounds hollow when tapped.",
        [
            ("Which ingredient fills the dough with bubbles of gas?", "yeast"),
            ("How long is the dough kneaded?", "ten minutes"),
            ("How long is the dough left to rise?", "one hour"),
            ("At what temperature is the bread baked?", "220 degrees"),
            ("How long does the bread bake in the oven?", "35 minutes"),
            ("What colour does the crust turn when the bread is ready?", "golden brown"),
        ],
        [
            ("For how many minutes should the dough be kneaded?", "ten minutes"),
            ("How hot is the oven when the bread is baked?", "220 degrees"),
        ],
    ),
    "de": (
        "Brot backen",
        "Für ein einfaches Brot braucht man nur vier Zutaten: Mehl, Wasser, Salz und Hefe, "
        "die den Teig mit winzigen Gasbläschen füllt. Der Teig wird etwa zehn Minuten "
        "geknetet und dann eine Stunde an einem warmen Ort gehen gelassen. Danach wird er zu "
        "einem Laib geformt und im Ofen bei 220 Grad 35 Minuten lang gebacken. Das Brot ist "
        "fertig, wenn die Kruste goldbraun ist und beim Klopfen hohl klingt.",
        [
            ("Welche Zutat füllt den Teig mit Gasbläschen?", "Hefe"),
            ("Wie lange wird der Teig geknetet?", "zehn Minuten"),
            ("Wie lange muss der Teig gehen?", "eine Stunde"),
            ("Bei welcher Temperatur wird das Brot gebacken?", "220 Grad"),
            ("Wie lange wird das Brot im Ofen gebacken?", "35 Minuten"),
            ("Welche Farbe hat die Kruste, wenn das Brot fertig ist?", "goldbraun"),
        ],
        [
            ("Wie viele Minuten wird der Teig geknetet?", "zehn Minuten"),
            ("Wie heiß ist der Ofen beim Backen des Brotes?", "220 Grad"),
        ],
    ),
    "es": (
        "Cómo se hornea el pan",
        "Una hogaza sencilla de pan solo necesita cuatro ingredientes: harina, agua, sal y "
        "levadura, que llena la masa de pequeñas burbujas de gas. La masa se amasa durante "
        "unos diez minutos y luego se deja reposar una hora en un lugar cálido para que suba. "
        "Después se le da forma y se hornea a 220 grados durante 35 minutos. El pan está "
        "listo cuando la corteza se vuelve dorada y suena hueca al golpearla.",
        [
            ("¿Qué ingrediente llena la masa de burbujas de gas?", "levadura"),
            ("¿Cuánto tiempo se amasa la masa?", "diez minutos"),
            ("¿Cuánto tiempo reposa la masa para que suba?", "una hora"),
            ("¿A qué temperatura se hornea el pan?", "220 grados"),
            ("¿Durante cuánto tiempo se hornea el pan?", "35 minutos"),
            ("¿De qué color se vuelve la corteza?", "dorada"),
        ],
        [
            ("¿Cuántos minutos hay que amasar la masa?", "diez minutos"),
            ("¿Qué temperatura debe tener el horno para el pan?", "220 grados"),
        ],
    ),
    "fr": (
        "La cuisson du pain",
        "Un pain simple ne demande que quatre ingrédients : de la farine, de l'eau, du sel et "
        "de la levure, qui remplit la pâte de petites bulles de gaz. La pâte est pétrie "
        "pendant environ dix minutes, puis on la laisse lever une heure dans un endroit "
        "chaud. On la façonne ensuite en miche et on la cuit au four à 220 degrés pendant 35 "
        "minutes. Le pain est prêt lorsque la croûte devient dorée et sonne creux quand on la "
        "tapote.",
        [
            ("Quel ingrédient remplit la pâte de bulles de gaz ?", "levure"),
            ("Combien de temps la pâte est-elle pétrie ?", "dix minutes"),
            ("Combien de temps laisse-t-on lever la pâte ?", "une heure"),
            ("À quelle température cuit-on le pain ?", "220 degrés"),
            ("Combien de temps le pain cuit-il au four ?", "35 minutes"),
            ("De quelle couleur devient la croûte ?", "dorée"),
        ],
        [
            ("Pendant combien de minutes faut-il pétrir la pâte ?", "dix minutes"),
            ("Quelle est la température du four pour cuire le pain ?", "220 degrés"),
        ],
    ),
    "zh": (
        "烤面包",
        "做一个简单的面包只需要四种原料：面粉、水、盐和酵母，后者会让面团里充满细小的气泡。"
        "面团要揉大约10分钟，然后放在温暖的地方发酵1小时。之后把面团整形，放进烤箱用220度烤"
        "35分钟。当外皮变成金黄色、敲起来声音发空时，面包就烤好了。",
        [
            ("哪种原料让面团充满气泡？", "酵母"),
            ("面团要揉多长时间？", "10分钟"),
            ("面团要发酵多久？", "1小时"),
            ("面包用多少度烤？", "220度"),
            ("面包要烤多长时间？", "35分钟"),
            ("烤好时外皮是什么颜色？", "金黄色"),
        ],
        [
            ("面团大约需要揉几分钟？", "10分钟"),
            ("烤面包时烤箱的温度是多少？", "220度"),
        ],
    ),
    "ru": (
        "Выпечка хлеба",
        "Для простого хлеба нужны всего четыре ингредиента: мука, вода, соль и дрожжи, "
        "которые наполняют тесто мелкими пузырьками газа. Тесто месят примерно десять минут, "
        "а затем оставляют подниматься на один час в тёплом месте. После этого из него "
        "формируют буханку и выпекают в духовке при температуре 220 градусов в течение 35 "
        "минут. Хлеб готов, когда корочка становится золотисто-коричневой и при постукивании "
        "издаёт глухой звук.",
        [
            ("Какой ингредиент наполняет тесто пузырьками газа?", "дрожжи"),
            ("Сколько времени месят тесто?", "десять минут"),
            ("Как долго тесто поднимается?", "один час"),
            ("При какой температуре выпекают хлеб?", "220 градусов"),
            ("Сколько минут хлеб печётся в духовке?", "35 минут"),
            ("Какой становится корочка готового хлеба?", "золотисто-коричневой"),
        ],
        [
            ("Сколько минут нужно месить тесто?", "десять минут"),
            ("Какая температура нужна в духовке для хлеба?", "220 градусов"),
        ],
    ),
    "ar": (
        "طريقة خبز الخبز",
        "يحتاج رغيف الخبز البسيط إلى أربعة مكونات فقط: الدقيق والماء والملح والخميرة، وهي "
        "التي تملأ العجين بفقاعات غاز صغيرة. يُعجن العجين نحو عشر دقائق، ثم يُترك ليختمر "
        "ساعة واحدة في مكان دافئ. بعد ذلك يُشكَّل رغيفًا ويُخبز في الفرن على حرارة 220 درجة "
        "لمدة 35 دقيقة. يكون الخبز جاهزًا عندما تصبح قشرته ذهبية اللون ويُصدر صوتًا أجوف "
        "عند النقر عليه.",
        [
            ("ما المكوّن الذي يملأ العجين بفقاعات الغاز؟", "الخميرة"),
            ("كم من الوقت يُعجن العجين؟", "عشر دقائق"),
            ("كم من الوقت يُترك العجين ليختمر؟", "ساعة واحدة"),
            ("على أي درجة حرارة يُخبز الخبز؟", "220 درجة"),
            ("كم دقيقة يبقى الخبز في الفرن؟", "35 دقيقة"),
            ("ما لون القشرة عندما يكون الخبز جاهزًا؟", "ذهبية"),
        ],
        [
            ("كم دقيقة يجب عجن العجين؟", "عشر دقائق"),
            ("ما درجة حرارة الفرن عند خبز الخبز؟", "220 درجة"),
        ],
    ),
    "hi": (
        "ब्रेड बनाना",
        "एक साधारण ब्रेड के लिए केवल चार चीज़ें चाहिए: मैदा, पानी, नमक और ख़मीर, जो गूँधे हुए "
        "आटे में गैस के छोटे-छोटे बुलबुले भर देता है। आटे को लगभग दस मिनट तक गूँधा जाता है और "
        "फिर किसी गरम जगह पर एक घंटे तक फूलने के लिए छोड़ दिया जाता है। इसके बाद उसे आकार "
        "देकर ओवन में 220 डिग्री पर 35 मिनट तक पकाया जाता है। जब ऊपरी परत सुनहरी भूरी हो जाए "
        "और थपथपाने पर खोखली आवाज़ आए, तब ब्रेड तैयार है।",
        [
            ("कौन-सी चीज़ आटे में गैस के बुलबुले भर देती है?", "ख़मीर"),
            ("आटे को कितनी देर तक गूँधा जाता है?", "दस मिनट"),
            ("आटे को कितनी देर फूलने के लिए छोड़ा जाता है?", "एक घंटे"),
            ("ब्रेड को कितने तापमान पर पकाया जाता है?", "220 डिग्री"),
            ("ब्रेड को ओवन में कितनी देर पकाया जाता है?", "35 मिनट"),
            ("ब्रेड तैयार होने पर ऊपरी परत का रंग कैसा होता है?", "सुनहरी भूरी"),
        ],
        [
            ("आटा लगभग कितने मिनट गूँधना चाहिए?", "दस मिनट"),
            ("ब्रेड पकाते समय ओवन का तापमान कितना होता है?", "220 डिग्री"),
        ],
    ),
}

CORPUS["river"] = {
    "en": (
        "Velna River",
        "The Velna is a river 412 kilometres long. It rises in the Tarsk Hills and flows east "
        "into Amber Bay. The largest city on its banks is Dornau, home to about 180,000 "
        "people. Its main tributary, the Orsa, joins it just below the city. Until 1930, "
        "rafts of timber were floated down the river to the sea.",
        [
            ("How long is the Velna?", "412 kilometres"),
            ("Where does the Velna rise?", "Tarsk Hills"),
            ("Into which bay does the Velna flow?", "Amber Bay"),
            ("What is the largest city on the Velna?", "Dornau"),
            ("What is the main tributary of the Velna?", "Orsa"),
            ("Until what year was timber floated down the river?", "1930"),
        ],
        [
            ("What is the length of the Velna River?", "412 kilometres"),
            ("In which hills does the Velna have its source?", "Tarsk Hills"),
        ],
    ),
    "de": (
        "Velna",
        "Die Velna ist ein 412 Kilometer langer Fluss. Sie entspringt in den Tarsker Hügeln "
        "und fließt nach Osten in die Bernsteinbucht. Die größte Stadt an ihren Ufern ist "
        "Dornau mit etwa 180.000 Einwohnern. Ihr wichtigster Nebenfluss, die Orsa, mündet "
        "kurz unterhalb der Stadt in sie. Bis 1930 wurden auf dem Fluss Holzflöße bis zum "
        "Meer getrieben.",
        [
            ("Wie lang ist die Velna?", "412 Kilometer"),
            ("Wo entspringt die Velna?", "Tarsker Hügeln"),
            ("In welche Bucht fließt die Velna?", "Bernsteinbucht"),
            ("Welche ist die größte Stadt an der Velna?", "Dornau"),
            ("Wie heißt der wichtigste Nebenfluss der Velna?", "Orsa"),
            ("Bis wann wurden Holzflöße auf dem Fluss getrieben?", "1930"),
        ],
        [
            ("Welche Länge hat die Velna?", "412 Kilometer"),
            ("In welchen Hügeln hat die Velna ihre Quelle?", "Tarsker Hügeln"),
        ],
    ),
    "es": (
        "Río Velna",
        "El Velna es un río de 412 kilómetros de longitud. Nace en las colinas de Tarsk y "
        "fluye hacia el este hasta desembocar en la bahía del Ámbar. La ciudad más grande de "
        "sus orillas es Dornau, con unos 180.000 habitantes. Su principal afluente, el Orsa, "
        "se le une poco después de la ciudad. Hasta 1930 se bajaban balsas de madera por el "
        "río hasta el mar.",
        [
            ("¿Cuánto mide el río Velna?", "412 kilómetros"),
            ("¿Dónde nace el Velna?", "colinas de Tarsk"),
            ("¿En qué bahía desemboca el Velna?", "bahía del Ámbar"),
            ("¿Cuál es la ciudad más grande a orillas del Velna?", "Dornau"),
            ("¿Cuál es el principal afluente del Velna?", "Orsa"),
            ("¿Hasta qué año se bajaba madera por el río?", "1930"),
        ],
        [
            ("¿Qué longitud tiene el Velna?", "412 kilómetros"),
            ("¿En qué colinas tiene su nacimiento el Velna?", "colinas de Tarsk"),
        ],
    ),
    "fr": (
        "La Velna",
        "La Velna est un fleuve long de 412 kilomètres. Elle prend sa source dans les "
        "collines de Tarsk et coule vers l'est jusqu'à la baie d'Ambre. La plus grande ville "
        "sur ses rives est Dornau, qui compte environ 180 000 habitants. Son principal "
        "affluent, l'Orsa, la rejoint juste en aval de la ville. Jusqu'en 1930, on faisait "
        "descendre des radeaux de bois sur le fleuve jusqu'à la mer.",
        [
            ("Quelle est la longueur de la Velna ?", "412 kilomètres"),
            ("Où la Velna prend-elle sa source ?", "collines de Tarsk"),
            ("Dans quelle baie se jette la Velna ?", "baie d'Ambre"),
            ("Quelle est la plus grande ville sur les rives de la Velna ?", "Dornau"),
            ("Quel est le principal affluent de la Velna ?", "Orsa"),
            ("Jusqu'à quelle année transportait-on du bois sur le fleuve ?", "1930"),
        ],
        [
            ("Combien de kilomètres mesure la Velna ?", "412 kilomètres"),
            ("Dans quelles collines naît la Velna ?", "collines de Tarsk"),
        ],
    ),
    "zh": (
        "韦尔纳河",
        "韦尔纳河是一条全长412公里的河流。它发源于塔尔斯克丘陵，向东流入琥珀湾。河岸上最大的"
        "城市是多尔瑙，人口约18万。它的主要支流奥尔萨河在城市下游不远处汇入。直到1930年，"
        "人们还把木筏顺流放到海边。",
        [
            ("韦尔纳河有多长？", "412公里"),
            ("韦尔纳河发源于哪里？", "塔尔斯克丘陵"),
            ("韦尔纳河流入哪个海湾？", "琥珀湾"),
            ("韦尔纳河沿岸最大的城市是哪座？", "多尔瑙"),
            ("韦尔纳河的主要支流是哪条河？", "奥尔萨河"),
            ("人们放木筏一直持续到哪一年？", "1930年"),
        ],
        [
            ("韦尔纳河全长多少公里？", "412公里"),
            ("韦尔纳河的源头在哪里？", "塔尔斯克丘陵"),
        ],
    ),
    "ru": (
        "Вельна",
        "Вельна — река длиной 412 километров. Она берёт начало в Тарских холмах и течёт на "
        "восток, впадая в Янтарный залив. Крупнейший город на её берегах — Дорнау, где живёт "
        "около 180 тысяч человек. Главный приток Вельны, Орса, впадает в неё чуть ниже "
        "города. До 1930 года по реке сплавляли лес к морю.",
        [
            ("Какова длина Вельны?", "412 километров"),
            ("Где берёт начало Вельна?", "Тарских холмах"),
            ("В какой залив впадает Вельна?", "Янтарный залив"),
            ("Какой город крупнейший на берегах Вельны?", "Дорнау"),
            ("Как называется главный приток Вельны?", "Орса"),
            ("До какого года по реке сплавляли лес?", "1930"),
        ],
        [
            ("Сколько километров составляет длина Вельны?", "412 километров"),
            ("В каких холмах находится исток Вельны?", "Тарских холмах"),
        ],
    ),
    "ar": (
        "نهر فيلنا",
        "فيلنا نهر يبلغ طوله 412 كيلومترًا. ينبع من تلال تارسك ويجري شرقًا حتى يصب في خليج "
        "العنبر. أكبر مدينة على ضفافه هي دورناو، ويسكنها نحو 180 ألف نسمة. ويلتقي به رافده "
        "الرئيسي، نهر أورسا، بعد المدينة بقليل. وحتى عام 1930 كانت أطواف الخشب تُنقل عبر "
        "النهر إلى البحر.",
        [
            ("كم يبلغ طول نهر فيلنا؟", "412 كيلومترًا"),
            ("من أين ينبع نهر فيلنا؟", "تلال تارسك"),
            ("في أي خليج يصب نهر فيلنا؟", "خليج العنبر"),
            ("ما أكبر مدينة على ضفاف نهر فيلنا؟", "دورناو"),
            ("ما الرافد الرئيسي لنهر فيلنا؟", "أورسا"),
            ("حتى أي عام كان الخشب يُنقل عبر النهر؟", "1930"),
        ],
        [
            ("ما طول نهر فيلنا بالكيلومترات؟", "412 كيلومترًا"),
            ("أين يقع منبع نهر فيلنا؟", "تلال تارسك"),
        ],
    ),
    "hi": (
        "वेल्ना नदी",
        "वेल्ना 412 किलोमीटर लंबी एक नदी है। यह तार्स्क पहाड़ियों से निकलती है और पूर्व की ओर "
        "बहकर अंबर खाड़ी में मिल जाती है। इसके किनारे बसा सबसे बड़ा शहर डोर्नाउ है, जहाँ लगभग "
        "1,80,000 लोग रहते हैं। इसकी मुख्य सहायक नदी ओर्सा शहर से थोड़ा आगे इसमें मिलती है। "
        "1930 तक इस नदी के रास्ते लकड़ी के बेड़े समुद्र तक बहाए जाते थे।",
        [
            ("वेल्ना नदी कितनी लंबी है?", "412 किलोमीटर"),
            ("वेल्ना नदी कहाँ से निकलती है?", "तार्स्क पहाड़ियों"),
            ("वेल्ना नदी किस खाड़ी में मिलती है?", "अंबर खाड़ी"),
            ("वेल्ना के किनारे सबसे बड़ा शहर कौन-सा है?", "डोर्नाउ"),
            ("वेल्ना की मुख्य सहायक नदी कौन-सी है?", "ओर्सा"),
            ("किस वर्ष तक नदी से लकड़ी के बेड़े बहाए जाते थे?", "1930"),
        ],
        [
            ("वेल्ना नदी की लंबाई कितनी है?", "412 किलोमीटर"),
            ("वेल्ना नदी का उद्गम किन पहाड़ियों में है?", "तार्स्क पहाड़ियों"),
        ],
    ),
}

CORPUS["bicycle"] = {
    "en": (
        "Bicycle",
        "A bicycle is a vehicle with two wheels that is driven by pedals. A chain carries "
        "the force from the pedals to the rear wheel. An early ancestor, the running machine "
        "built by Karl Drais in 1817, had no pedals at all: the rider pushed it along with "
        "his feet. A typical city bicycle weighs about 15 kilograms, while a racing bicycle "
        "may weigh less than 8 kilograms.",
        [
            ("What carries the force from the pedals to the rear wheel?", "chain"),
            ("Which wheel does the chain drive?", "rear wheel"),
            ("Who built the running machine?", "Karl Drais"),
            ("In what year was the running machine built?", "1817"),
            ("How much does a typical city bicycle weigh?", "15 kilograms"),
            ("How did the rider move the running machine along?", "with his feet"),
        ],
        [
            ("Who was the builder of the early running machine?", "Karl Drais"),
            ("What is the weight of an ordinary city bicycle?", "15 kilograms"),
        ],
    ),
    "de": (
        "Fahrrad",
        "Ein Fahrrad ist ein Fahrzeug mit zwei Rädern, das mit Pedalen angetrieben wird. Eine "
        "Kette überträgt die Kraft von den Pedalen auf das Hinterrad. Ein früher Vorläufer, "
        "die Laufmaschine, die Karl Drais 1817 baute, hatte überhaupt keine Pedale: Der "
        "Fahrer stieß sich mit den Füßen vom Boden ab. Ein typisches Stadtrad wiegt etwa 15 "
        "Kilogramm, ein Rennrad dagegen oft weniger als 8 Kilogramm.",
        [
            ("Was überträgt die Kraft von den Pedalen auf das Hinterrad?", "Kette"),
            ("Auf welches Rad überträgt die Kette die Kraft?", "Hinterrad"),
            ("Wer baute die Laufmaschine?", "Karl Drais"),
            ("In welchem Jahr wurde die Laufmaschine gebaut?", "1817"),
            ("Wie viel wiegt ein typisches Stadtrad?", "15 Kilogramm"),
            ("Womit stieß sich der Fahrer der Laufmaschine ab?", "mit den Füßen"),
        ],
        [
            ("Wer war der Erbauer der frühen Laufmaschine?", "Karl Drais"),
            ("Welches Gewicht hat ein gewöhnliches Stadtrad?", "15 Kilogramm"),
        ],
    ),
    "es": (
        "Bicicleta",
        "La bicicleta es un vehículo de dos ruedas que se mueve con pedales. Una cadena "
        "transmite la fuerza de los pedales a la rueda trasera. Uno de sus primeros "
        "antecesores, la draisiana, una máquina de correr que Karl Drais construyó en 1817, "
        "no tenía pedales: el ciclista se impulsaba con los pies. Una bicicleta urbana típica "
        "pesa unos 15 kilogramos, mientras que una de carreras puede pesar menos de 8 "
        "kilogramos.",
        [
            ("¿Qué transmite la fuerza de los pedales a la rueda trasera?", "cadena"),
            ("¿A qué rueda transmite la cadena la fuerza?", "rueda trasera"),
            ("¿Quién construyó la draisiana?", "Karl Drais"),
            ("¿En qué año se construyó la draisiana?", "1817"),
            ("¿Cuánto pesa una bicicleta urbana típica?", "15 kilogramos"),
            ("¿Cómo se impulsaba el ciclista en la draisiana?", "con los pies"),
        ],
        [
            ("¿Quién fue el creador de la draisiana?", "Karl Drais"),
            ("¿Qué peso tiene una bicicleta urbana normal?", "15 kilogramos"),
        ],
    ),
    "fr": (
        "Bicyclette",
        "La bicyclette est un véhicule à deux roues mû par des pédales. Une chaîne transmet "
        "la force des pédales à la roue arrière. L'un de ses premiers ancêtres, la "
        "draisienne, construite par Karl Drais en 1817, n'avait pas de pédales : le cycliste "
        "avançait en poussant avec les pieds. Un vélo de ville typique pèse environ 15 "
        "kilogrammes, alors qu'un vélo de course peut peser moins de 8 kilogrammes.",
        [
            ("Qu'est-ce qui transmet la force des pédales à la roue arrière ?", "chaîne"),
            ("À quelle roue la chaîne transmet-elle la force ?", "roue arrière"),
            ("Qui a construit la draisienne ?", "Karl Drais"),
            ("En quelle année la draisienne a-t-elle été construite ?", "1817"),
            ("Combien pèse un vélo de ville typique ?", "15 kilogrammes"),
            ("Comment le cycliste faisait-il avancer la draisienne ?", "en poussant avec les pieds"),
        ],
        [
            ("Qui est l'inventeur de la draisienne ?", "Karl Drais"),
            ("Quel est le poids d'un vélo de ville ordinaire ?", "15 kilogrammes"),
        ],
    ),
    "zh": (
        "自行车",
        "自行车是一种靠踏板驱动的两轮交通工具。链条把踏板上的力量传到后轮。它的早期雏形之一"
        "是卡尔·德莱斯在1817年制造的“奔跑机”，这种车根本没有踏板，骑车人要用双脚蹬地前进。"
        "一辆普通的城市自行车重约15公斤，而公路赛车可能不到8公斤。",
        [
            ("什么把踏板上的力量传到后轮？", "链条"),
            ("链条把力量传到哪个轮子？", "后轮"),
            ("“奔跑机”是谁制造的？", "卡尔·德莱斯"),
            ("“奔跑机”是哪一年制造的？", "1817年"),
            ("一辆普通的城市自行车有多重？", "15公斤"),
            ("骑“奔跑机”的人怎样前进？", "用双脚蹬地"),
        ],
        [
            ("谁制造了早期的“奔跑机”？", "卡尔·德莱斯"),
            ("普通城市自行车的重量大约是多少？", "15公斤"),
        ],
    ),
    "ru": (
        "Велосипед",
        "Велосипед — это двухколёсное транспортное средство, которое приводится в движение "
        "педалями. Цепь передаёт усилие от педалей на заднее колесо. Один из его ранних "
        "предков — беговая машина, которую в 1817 году построил Карл Дрез; педалей у неё "
        "вовсе не было, и седок отталкивался от земли ногами. Обычный городской велосипед "
        "весит около 15 килограммов, а гоночный может весить меньше 8 килограммов.",
        [
            ("Что передаёт усилие от педалей на заднее колесо?", "Цепь"),
            ("На какое колесо цепь передаёт усилие?", "заднее колесо"),
            ("Кто построил беговую машину?", "Карл Дрез"),
            ("В каком году была построена беговая машина?", "1817"),
            ("Сколько весит обычный городской велосипед?", "15 килограммов"),
            ("Чем седок беговой машины отталкивался от земли?", "ногами"),
        ],
        [
            ("Кто создал беговую машину?", "Карл Дрез"),
            ("Каков вес обычного городского велосипеда?", "15 килограммов"),
        ],
    ),
    "ar": (
        "الدراجة الهوائية",
        "الدراجة الهوائية مركبة ذات عجلتين تُدار بالدواسات. تنقل السلسلة القوة من الدواسات "
        "إلى العجلة الخلفية. ومن أوائل أسلافها آلة الجري التي صنعها كارل درايس عام 1817، ولم "
        "تكن لها دواسات على الإطلاق، إذ كان الراكب يدفعها بقدميه. تزن دراجة المدينة العادية "
        "نحو 15 كيلوغرامًا، بينما قد يقل وزن دراجة السباق عن 8 كيلوغرامات.",
        [
            ("ما الذي ينقل القوة من الدواسات إلى العجلة الخلفية؟", "السلسلة"),
            ("إلى أي عجلة تنقل السلسلة القوة؟", "العجلة الخلفية"),
            ("من صنع آلة الجري؟", "كارل درايس"),
            ("في أي عام صُنعت آلة الجري؟", "1817"),
            ("كم تزن دراجة المدينة العادية؟", "15 كيلوغرامًا"),
            ("بماذا كان الراكب يدفع آلة الجري؟", "بقدميه"),
        ],
        [
            ("من هو صانع آلة الجري المبكرة؟", "كارل درايس"),
            ("ما وزن دراجة المدينة العادية تقريبًا؟", "15 كيلوغرامًا"),
        ],
    ),
    "hi": (
        "साइकिल",
        "साइकिल दो पहियों वाला एक वाहन है, जिसे पैडल से चलाया जाता है। एक चेन पैडल की ताक़त को "
        "पिछले पहिये तक पहुँचाती है। इसका एक शुरुआती पूर्वज, 1817 में कार्ल ड्राइस द्वारा बनाई "
        "गई दौड़ने वाली मशीन, बिना पैडल की थी: सवार अपने पैरों से ज़मीन को धकेलकर उसे आगे "
        "बढ़ाता था। एक आम शहरी साइकिल का वज़न लगभग 15 किलोग्राम होता है, जबकि रेसिंग साइकिल "
        "का वज़न 8 किलोग्राम से भी कम हो सकता है।",
        [
            ("पैडल की ताक़त को पिछले पहिये तक कौन पहुँचाती है?", "चेन"),
            ("चेन पैडल की ताक़त को किस पहिये तक पहुँचाती है?", "पिछले पहिये"),
            ("दौड़ने वाली मशीन किसने बनाई थी?", "कार्ल ड्राइस"),
            ("दौड़ने वाली मशीन किस वर्ष बनाई गई थी?", "1817"),
            ("एक आम शहरी साइकिल का वज़न कितना होता है?", "15 किलोग्राम"),
            ("सवार दौड़ने वाली मशीन को कैसे आगे बढ़ाता था?", "अपने पैरों से"),
        ],
        [
            ("शुरुआती दौड़ने वाली मशीन का निर्माता कौन था?", "कार्ल ड्राइस"),
            ("साधारण शहरी साइकिल लगभग कितनी भारी होती है?", "15 किलोग्राम"),
        ],
    ),
}

CORPUS["tea"] = {
    "en": (
        "Tea",
        "Tea is a drink made by pouring hot water over the dried leaves of the tea plant, "
        "Camellia sinensis. The plant originally comes from southern China. Leaves for green "
        "tea are heated soon after picking, while leaves for black tea are first left to "
        "oxidise. Black tea is usually brewed for three to five minutes in water at about 95 "
        "degrees. In Britain it is often served with a splash of milk.",
        [
            ("What is the scientific name of the tea plant?", "Camellia sinensis"),
            ("Where does the tea plant originally come from?", "southern China"),
            ("For which kind of tea are the leaves heated soon after picking?", "green tea"),
            ("How long is black tea usually brewed?", "three to five minutes"),
            ("At what water temperature is black tea brewed?", "95 degrees"),
            ("What is black tea often served with in Britain?", "milk"),
        ],
        [
            ("What is the Latin name of the tea plant?", "Camellia sinensis"),
            ("For how many minutes is black tea normally steeped?", "three to five minutes"),
        ],
    ),
    "de": (
        "Tee",
        "Tee ist ein Getränk, das man zubereitet, indem man heißes Wasser über die "
        "getrockneten Blätter der Teepflanze Camellia sinensis gießt. Die Pflanze stammt "
        "ursprünglich aus Südchina. Die Blätter für grünen Tee werden kurz nach der Ernte "
        "erhitzt, die Blätter für schwarzen Tee lässt man dagegen zuerst oxidieren. Schwarzer "
        "Tee zieht meist drei bis fünf Minuten in etwa 95 Grad heißem Wasser. In "
        "Großbritannien wird er oft mit einem Schuss Milch serviert.",
        [
            ("Wie lautet der wissenschaftliche Name der Teepflanze?", "Camellia sinensis"),
            ("Woher stammt die Teepflanze ursprünglich?", "Südchina"),
            ("Für welchen Tee werden die Blätter kurz nach der Ernte erhitzt?", "grünen Tee"),
            ("Wie lange zieht schwarzer Tee meist?", "drei bis fünf Minuten"),
            ("Wie heiß ist das Wasser für schwarzen Tee?", "95 Grad"),
            ("Womit wird Tee in Großbritannien oft serviert?", "Milch"),
        ],
        [
            ("Wie heißt die Teepflanze auf Latein?", "Camellia sinensis"),
            ("Wie viele Minuten lässt man schwarzen Tee normalerweise ziehen?", "drei bis fünf Minuten"),
        ],
    ),
    "es": (
        "Té",
        "El té es una bebida que se prepara vertiendo agua caliente sobre las hojas secas de "
        "la planta del té, Camellia sinensis. La planta es originaria del sur de China. Las "
        "hojas del té verde se calientan poco después de la cosecha, mientras que las del té "
        "negro se dejan oxidar primero. El té negro suele infusionarse de tres a cinco "
        "minutos en agua a unos 95 grados. En Gran Bretaña se sirve a menudo con un chorrito "
        "de leche.",
        [
            ("¿Cuál es el nombre científico de la planta del té?", "Camellia sinensis"),
            ("¿De dónde es originaria la planta del té?", "sur de China"),
            ("¿En qué tipo de té se calientan las hojas poco después de la cosecha?", "té verde"),
            ("¿Cuánto tiempo suele infusionarse el té negro?", "tres a cinco minutos"),
            ("¿A qué temperatura debe estar el agua para el té negro?", "95 grados"),
            ("¿Con qué se sirve a menudo el té en Gran Bretaña?", "leche"),
        ],
        [
            ("¿Cómo se llama en latín la planta del té?", "Camellia sinensis"),
            ("¿Cuántos minutos se deja reposar normalmente el té negro?", "tres a cinco minutos"),
        ],
    ),
    "fr": (
        "Thé",
        "Le thé est une boisson que l'on prépare en versant de l'eau chaude sur les feuilles "
        "séchées du théier, Camellia sinensis. Cette plante est originaire du sud de la "
        "Chine. Les feuilles du thé vert sont chauffées peu après la cueillette, tandis que "
        "celles du thé noir sont d'abord laissées à oxyder. Le thé noir infuse généralement "
        "de trois à cinq minutes dans une eau à environ 95 degrés. En Grande-Bretagne, on le "
        "sert souvent avec un nuage de lait.",
        [
            ("Quel est le nom scientifique du théier ?", "Camellia sinensis"),
            ("D'où le théier est-il originaire ?", "sud de la Chine"),
            ("Pour quel thé les feuilles sont-elles chauffées peu après la cueillette ?", "thé vert"),
            ("Combien de temps le thé noir infuse-t-il généralement ?", "trois à cinq minutes"),
            ("À quelle température doit être l'eau pour le thé noir ?", "95 degrés"),
            ("Avec quoi sert-on souvent le thé en Grande-Bretagne ?", "lait"),
        ],
        [
            ("Comment s'appelle le théier en latin ?", "Camellia sinensis"),
            ("Pendant combien de minutes laisse-t-on infuser le thé noir ?", "trois à cinq minutes"),
        ],
    ),
    "zh": (
        "茶",
        "茶是一种把热水冲在茶树干燥叶片上制成的饮料，茶树的学名是Camellia sinensis。"
        "茶树原产于中国南方。绿茶的叶子在采摘后不久就要加热杀青，而红茶的叶子则先要经过氧化。"
        "红茶通常用约95度的水冲泡三到五分钟。在英国，人们常常在红茶里加一点牛奶。",
        [
            ("茶树的学名是什么？", "Camellia sinensis"),
            ("茶树原产于哪里？", "中国南方"),
            ("哪种茶的叶子在采摘后不久就要加热？", "绿茶"),
            ("红茶通常冲泡多长时间？", "三到五分钟"),
            ("冲泡红茶的水温大约是多少？", "95度"),
            ("在英国，人们常在红茶里加什么？", "牛奶"),
        ],
        [
            ("茶树的拉丁学名叫什么？", "Camellia sinensis"),
            ("红茶一般要泡几分钟？", "三到五分钟"),
        ],
    ),
    "ru": (
        "Чай",
        "Чай — это напиток, который готовят, заливая горячей водой высушенные листья чайного "
        "куста Camellia sinensis. Это растение происходит с юга Китая. Листья для зелёного "
        "чая нагревают вскоре после сбора, а листья для чёрного чая сначала оставляют "
        "окисляться. Чёрный чай обычно заваривают от трёх до пяти минут водой температурой "
        "около 95 градусов. В Великобритании его часто пьют с молоком.",
        [
            ("Каково научное название чайного куста?", "Camellia sinensis"),
            ("Откуда происходит чайный куст?", "юга Китая"),
            ("Для какого чая листья нагревают вскоре после сбора?", "зелёного чая"),
            ("Сколько времени обычно заваривают чёрный чай?", "от трёх до пяти минут"),
            ("Какой температуры должна быть вода для чёрного чая?", "95 градусов"),
            ("С чем в Великобритании часто пьют чай?", "молоком"),
        ],
        [
            ("Как звучит латинское название чайного куста?", "Camellia sinensis"),
            ("Сколько минут обычно настаивают чёрный чай?", "от трёх до пяти минут"),
        ],
    ),
    "ar": (
        "الشاي",
        "الشاي مشروب يُحضَّر بصب الماء الساخن على الأوراق المجففة لنبتة الشاي، واسمها العلمي "
        "Camellia sinensis. وموطن هذه النبتة الأصلي جنوب الصين. تُسخَّن أوراق الشاي الأخضر "
        "بعد قطفها بوقت قصير، أما أوراق الشاي الأسود فتُترك أولًا لتتأكسد. وعادةً يُنقع الشاي "
        "الأسود من ثلاث إلى خمس دقائق في ماء حرارته نحو 95 درجة. وفي بريطانيا يُقدَّم غالبًا "
        "مع قليل من الحليب.",
        [
            ("ما الاسم العلمي لنبتة الشاي؟", "Camellia sinensis"),
            ("ما الموطن الأصلي لنبتة الشاي؟", "جنوب الصين"),
            ("أي نوع من الشاي تُسخَّن أوراقه بعد قطفها بوقت قصير؟", "الشاي الأخضر"),
            ("كم من الوقت يُنقع الشاي الأسود عادةً؟", "ثلاث إلى خمس دقائق"),
            ("ما درجة حرارة الماء المناسبة للشاي الأسود؟", "95 درجة"),
            ("مع ماذا يُقدَّم الشاي غالبًا في بريطانيا؟", "الحليب"),
        ],
        [
            ("ما الاسم اللاتيني لنبتة الشاي؟", "Camellia sinensis"),
            ("كم دقيقة يُترك الشاي الأسود منقوعًا في العادة؟", "ثلاث إلى خمس دقائق"),
        ],
    ),
    "hi": (
        "चाय",
        "चाय एक पेय है, जिसे चाय के पौधे Camellia sinensis की सूखी पत्तियों पर गरम पानी डालकर "
        "बनाया जाता है। यह पौधा मूल रूप से दक्षिणी चीन से आता है। हरी चाय की पत्तियों को तोड़ने "
        "के तुरंत बाद गरम किया जाता है, जबकि काली चाय की पत्तियों को पहले ऑक्सीकृत होने दिया "
        "जाता है। काली चाय को आमतौर पर लगभग 95 डिग्री के पानी में तीन से पाँच मिनट तक भिगोया "
        "जाता है। ब्रिटेन में इसे अक्सर थोड़े दूध के साथ परोसा जाता है।",
        [
            ("चाय के पौधे का वैज्ञानिक नाम क्या है?", "Camellia sinensis"),
            ("चाय का पौधा मूल रूप से कहाँ से आता है?", "दक्षिणी चीन"),
            ("किस चाय की पत्तियों को तोड़ने के तुरंत बाद गरम किया जाता है?", "हरी चाय"),
            ("काली चाय को आमतौर पर कितनी देर भिगोया जाता है?", "तीन से पाँच मिनट"),
            ("काली चाय के लिए पानी का तापमान कितना होता है?", "95 डिग्री"),
            ("ब्रिटेन में चाय अक्सर किसके साथ परोसी जाती है?", "दूध"),
        ],
        [
            ("चाय के पौधे का लैटिन नाम क्या है?", "Camellia sinensis"),
            ("काली चाय आमतौर पर कितने मिनट तक भिगोई जाती है?", "तीन से पाँच मिनट"),
        ],
    ),
}

CORPUS["library"] = {
    "en": (
        "Sollby Town Library",
        "Sollby Town Library opened in 1902 in a former grain warehouse by the harbour. It "
        "holds about 85,000 books and a large collection of old sea charts. The reading room "
        "is known for its green glass ceiling. The library is open every day except Monday, "
        "and borrowing books is free for local residents. Its first librarian was Agnes "
        "Morrow, who ran it for thirty years.",
        [
            ("When did Sollby Town Library open?", "1902"),
            ("What kind of building did the library open in?", "grain warehouse"),
            ("How many books does the library hold?", "85,000"),
            ("What colour is the glass ceiling of the reading room?", "green"),
            ("On which day is the library closed?", "Monday"),
            ("Who was the first librarian?", "Agnes Morrow"),
        ],
        [
            ("In what year was Sollby Town Library opened?", "1902"),
            ("What was the name of the library's first librarian?", "Agnes Morrow"),
        ],
    ),
    "de": (
        "Stadtbibliothek Sollby",
        "Die Stadtbibliothek Sollby wurde 1902 in einem ehemaligen Getreidespeicher am Hafen "
        "eröffnet. Sie besitzt rund 85.000 Bücher und eine große Sammlung alter Seekarten. "
        "Der Lesesaal ist für seine grüne Glasdecke bekannt. Die Bibliothek ist täglich außer "
        "montags geöffnet, und für Einwohner der Stadt ist die Ausleihe kostenlos. Erste "
        "Bibliothekarin war Agnes Morrow, die das Haus dreißig Jahre lang leitete.",
        [
            ("Wann wurde die Stadtbibliothek Sollby eröffnet?", "1902"),
            ("In welchem Gebäude wurde die Bibliothek eröffnet?", "Getreidespeicher"),
            ("Wie viele Bücher besitzt die Bibliothek?", "85.000"),
            ("Welche Farbe hat die Glasdecke des Lesesaals?", "grüne"),
            ("An welchem Tag ist die Bibliothek geschlossen?", "montags"),
            ("Wer war die erste Bibliothekarin?", "Agnes Morrow"),
        ],
        [
            ("In welchem Jahr öffnete die Stadtbibliothek Sollby?", "1902"),
            ("Wie hieß die erste Bibliothekarin von Sollby?", "Agnes Morrow"),
        ],
    ),
    "es": (
        "Biblioteca Municipal de Sollby",
        "La Biblioteca Municipal de Sollby abrió en 1902 en un antiguo almacén de grano junto "
        "al puerto. Guarda unos 85.000 libros y una gran colección de cartas náuticas "
        "antiguas. La sala de lectura es conocida por su techo de cristal verde. La "
        "biblioteca abre todos los días excepto el lunes, y el préstamo de libros es gratuito "
        "para los vecinos. Su primera bibliotecaria fue Agnes Morrow, que la dirigió durante "
        "treinta años.",
        [
            ("¿Cuándo abrió la Biblioteca Municipal de Sollby?", "1902"),
            ("¿En qué edificio abrió la biblioteca?", "almacén de grano"),
            ("¿Cuántos libros guarda la biblioteca?", "85.000"),
            ("¿De qué color es el techo de cristal de la sala de lectura?", "verde"),
            ("¿Qué día cierra la biblioteca?", "lunes"),
            ("¿Quién fue la primera bibliotecaria?", "Agnes Morrow"),
        ],
        [
            ("¿En qué año se inauguró la biblioteca de Sollby?", "1902"),
            ("¿Cómo se llamaba la primera bibliotecaria de Sollby?", "Agnes Morrow"),
        ],
    ),
    "fr": (
        "Bibliothèque municipale de Sollby",
        "La bibliothèque municipale de Sollby a été inaugurée en 1902 dans un ancien entrepôt "
        "à grains près du port. Elle possède environ 85 000 livres et une grande collection "
        "de cartes marines anciennes. La salle de lecture est connue pour son plafond de "
        "verre vert. La bibliothèque accueille le public tous les jours sauf le lundi, et "
        "l'emprunt de livres est gratuit pour les habitants. Sa première bibliothécaire fut "
        "Agnes Morrow, qui la dirigea pendant trente ans.",
        [
            ("Quand la bibliothèque de Sollby a-t-elle été inaugurée ?", "1902"),
            ("Dans quel bâtiment la bibliothèque a-t-elle été installée ?", "entrepôt à grains"),
            ("Combien de livres la bibliothèque possède-t-elle ?", "85 000"),
            ("De quelle couleur est le plafond de verre de la salle de lecture ?", "vert"),
            ("Quel jour la bibliothèque est-elle fermée ?", "lundi"),
            ("Qui fut la première bibliothécaire ?", "Agnes Morrow"),
        ],
        [
            ("En quelle année la bibliothèque municipale de Sollby a-t-elle ouvert ?", "1902"),
            ("Comment s'appelait la première bibliothécaire de Sollby ?", "Agnes Morrow"),
        ],
    ),
    "zh": (
        "索尔比市立图书馆",
        "索尔比市立图书馆于1902年开馆，馆址是港口旁一座旧粮仓。馆内藏书约8.5万册，还收藏了"
        "大量古老的航海图。阅览室以绿色的玻璃天花板而闻名。图书馆除星期一外每天开放，本地居民"
        "借书免费。第一任馆长是阿格尼丝·莫罗，她管理这座图书馆长达三十年。",
        [
            ("索尔比市立图书馆哪一年开馆？", "1902年"),
            ("图书馆设在什么建筑里？", "旧粮仓"),
            ("图书馆藏书大约多少册？", "8.5万册"),
            ("阅览室的玻璃天花板是什么颜色的？", "绿色"),
            ("图书馆星期几不开放？", "星期一"),
            ("图书馆的第一任馆长是谁？", "阿格尼丝·莫罗"),
        ],
        [
            ("索尔比市立图书馆是在哪一年开放的？", "1902年"),
            ("第一任馆长叫什么名字？", "阿格尼丝·莫罗"),
        ],
    ),
    "ru": (
        "Городская библиотека Сольбю",
        "Городская библиотека Сольбю открылась в 1902 году в бывшем зернохранилище у гавани. "
        "В её фондах около 85 тысяч книг и большая коллекция старинных морских карт. Потолок "
        "читального зала сделан из зелёного стекла. Библиотека открыта ежедневно, кроме "
        "понедельника, а для жителей города выдача книг бесплатна. Первым библиотекарем была "
        "Агнес Морроу, которая руководила библиотекой тридцать лет.",
        [
            ("Когда открылась городская библиотека Сольбю?", "1902"),
            ("В каком здании открылась библиотека?", "зернохранилище"),
            ("Сколько книг в фондах библиотеки?", "85 тысяч"),
            ("Из стекла какого цвета сделан потолок читального зала?", "зелёного"),
            ("Кроме какого дня библиотека открыта ежедневно?", "понедельника"),
            ("Кто был первым библиотекарем?", "Агнес Морроу"),
        ],
        [
            ("В каком году открылась библиотека Сольбю?", "1902"),
            ("Как звали первого библиотекаря Сольбю?", "Агнес Морроу"),
        ],
    ),
    "ar": (
        "مكتبة سولبي العامة",
        "افتُتحت مكتبة سولبي العامة عام 1902 في مخزن حبوب قديم بجوار الميناء. تضم المكتبة نحو "
        "85 ألف كتاب ومجموعة كبيرة من الخرائط البحرية القديمة. وتشتهر قاعة المطالعة بسقفها "
        "الزجاجي الأخضر. تفتح المكتبة أبوابها كل يوم ما عدا يوم الاثنين، والإعارة مجانية لسكان "
        "البلدة. وكانت أول أمينة للمكتبة أغنيس مورو، التي أدارتها ثلاثين عامًا.",
        [
            ("متى افتُتحت مكتبة سولبي العامة؟", "1902"),
            ("في أي مبنى افتُتحت المكتبة؟", "مخزن حبوب"),
            ("كم كتابًا تضم المكتبة؟", "85 ألف"),
            ("ما لون السقف الزجاجي في قاعة المطالعة؟", "الأخضر"),
            ("في أي يوم تُغلق المكتبة؟", "الاثنين"),
            ("من كانت أول أمينة للمكتبة؟", "أغنيس مورو"),
        ],
        [
            ("في أي عام فتحت مكتبة سولبي أبوابها؟", "1902"),
            ("ما اسم أول أمينة لمكتبة سولبي؟", "أغنيس مورو"),
        ],
    ),
    "hi": (
        "सोलबी नगर पुस्तकालय",
        "सोलबी नगर पुस्तकालय 1902 में बंदरगाह के पास अनाज के एक पुराने गोदाम में खुला था। "
        "इसमें लगभग 85,000 किताबें और पुराने समुद्री नक्शों का एक बड़ा संग्रह है। वाचनालय "
        "अपनी हरे काँच की छत के लिए जाना जाता है। पुस्तकालय सोमवार को छोड़कर हर दिन खुला रहता "
        "है, और स्थानीय निवासियों के लिए किताबें उधार लेना मुफ़्त है। इसकी पहली "
        "पुस्तकालयाध्यक्ष एग्नेस मॉरो थीं, जिन्होंने तीस वर्षों तक इसे चलाया।",
        [
            ("सोलबी नगर पुस्तकालय कब खुला था?", "1902"),
            ("पुस्तकालय किस इमारत में खुला था?", "अनाज के एक पुराने गोदाम"),
            ("पुस्तकालय में लगभग कितनी किताबें हैं?", "85,000"),
            ("वाचनालय की काँच की छत किस रंग की है?", "हरे"),
            ("पुस्तकालय किस दिन बंद रहता है?", "सोमवार"),
            ("पुस्तकालय की पहली पुस्तकालयाध्यक्ष कौन थीं?", "एग्नेस मॉरो"),
        ],
        [
            ("सोलबी का पुस्तकालय किस वर्ष खुला?", "1902"),
            ("सोलबी पुस्तकालय की पहली पुस्तकालयाध्यक्ष का नाम क्या था?", "एग्नेस मॉरो"),
        ],
    ),
}

CORPUS["railway"] = {
    "en": (
        "Silver Valley Railway",
        "The Silver Valley Railway climbs from the village of Kelmi to a summit station at "
        "2,140 metres. The line opened in 1898 and is 9 kilometres long. Because the "
        "steepest section has a gradient of 25 percent, the trains run on a toothed rack "
        "rail. A trip takes 45 minutes, and the blue carriages run only between June and "
        "October.",
        [
            ("From which village does the Silver Valley Railway start?", "Kelmi"),
            ("At what altitude is the summit station?", "2,140 metres"),
            ("When did the line open?", "1898"),
            ("How long is the line?", "9 kilometres"),
            ("How long does a trip take?", "45 minutes"),
            ("What colour are the carriages?", "blue"),
        ],
        [
            ("In which year was the Silver Valley Railway opened?", "1898"),
            ("How high is the summit station of the railway?", "2,140 metres"),
        ],
    ),
    "de": (
        "Silbertalbahn",
        "Die Silbertalbahn fährt vom Dorf Kelmi hinauf zu einer Gipfelstation auf 2140 Metern "
        "Höhe. Die Strecke wurde 1898 eröffnet und ist 9 Kilometer lang. Weil der steilste "
        "Abschnitt eine Steigung von 25 Prozent hat, fahren die Züge auf einer Zahnstange. "
        "Eine Fahrt dauert 45 Minuten, und die blauen Wagen verkehren nur von Juni bis "
        "Oktober.",
        [
            ("Von welchem Dorf fährt die Silbertalbahn ab?", "Kelmi"),
            ("Auf welcher Höhe liegt die Gipfelstation?", "2140 Metern"),
            ("Wann wurde die Strecke eröffnet?", "1898"),
            ("Wie lang ist die Strecke?", "9 Kilometer"),
            ("Wie lange dauert eine Fahrt?", "45 Minuten"),
            ("Welche Farbe haben die Wagen?", "blauen"),
        ],
        [
            ("In welchem Jahr wurde die Silbertalbahn eröffnet?", "1898"),
            ("Wie hoch liegt die Gipfelstation der Bahn?", "2140 Metern"),
        ],
    ),
    "es": (
        "Ferrocarril del Valle de Plata",
        "El Ferrocarril del Valle de Plata sube desde el pueblo de Kelmi hasta una estación "
        "de cumbre situada a 2140 metros. La línea se inauguró en 1898 y tiene 9 kilómetros "
        "de longitud. Como el tramo más empinado tiene una pendiente del 25 por ciento, los "
        "trenes usan un riel de cremallera. El viaje dura 45 minutos, y los vagones azules "
        "solo circulan de junio a octubre.",
        [
            ("¿Desde qué pueblo sale el Ferrocarril del Valle de Plata?", "Kelmi"),
            ("¿A qué altitud está la estación de cumbre?", "2140 metros"),
            ("¿Cuándo se inauguró la línea?", "1898"),
            ("¿Cuántos kilómetros tiene la línea?", "9 kilómetros"),
            ("¿Cuánto dura el viaje?", "45 minutos"),
            ("¿De qué color son los vagones?", "azules"),
        ],
        [
            ("¿En qué año se abrió el Ferrocarril del Valle de Plata?", "1898"),
            ("¿A qué altura se encuentra la estación de cumbre?", "2140 metros"),
        ],
    ),
    "fr": (
        "Chemin de fer de la Vallée d'Argent",
        "Le chemin de fer de la Vallée d'Argent monte du village de Kelmi jusqu'à une gare "
        "sommitale située à 2140 mètres. La ligne a été inaugurée en 1898 et mesure 9 "
        "kilomètres. Comme la section la plus raide présente une pente de 25 pour cent, les "
        "trains utilisent une crémaillère. Le trajet dure 45 minutes, et les voitures bleues "
        "ne circulent que de juin à octobre.",
        [
            ("De quel village part le chemin de fer de la Vallée d'Argent ?", "Kelmi"),
            ("À quelle altitude se trouve la gare sommitale ?", "2140 mètres"),
            ("Quand la ligne a-t-elle été inaugurée ?", "1898"),
            ("Quelle est la longueur de la ligne ?", "9 kilomètres"),
            ("Combien de temps dure le trajet ?", "45 minutes"),
            ("De quelle couleur sont les voitures ?", "bleues"),
        ],
        [
            ("En quelle année la ligne de la Vallée d'Argent a-t-elle ouvert ?", "1898"),
            ("À quelle hauteur est située la gare sommitale ?", "2140 mètres"),
        ],
    ),
    "zh": (
        "银谷铁路",
        "银谷铁路从凯尔米村出发，一直爬升到海拔2140米的山顶车站。这条线路于1898年通车，"
        "全长9公里。由于最陡的一段坡度达到25%，列车采用齿轨运行。单程需要45分钟，蓝色的"
        "车厢只在6月至10月间运行。",
        [
            ("银谷铁路从哪个村子出发？", "凯尔米村"),
            ("山顶车站的海拔是多少？", "2140米"),
            ("这条线路哪一年通车？", "1898年"),
            ("线路全长多少？", "9公里"),
            ("单程需要多长时间？", "45分钟"),
            ("车厢是什么颜色的？", "蓝色"),
        ],
        [
            ("银谷铁路是哪一年开通的？", "1898年"),
            ("山顶车站位于多高的地方？", "2140米"),
        ],
    ),
    "ru": (
        "Железная дорога Серебряной долины",
        "Железная дорога Серебряной долины поднимается от деревни Кельми к вершинной станции "
        "на высоте 2140 метров. Линия открылась в 1898 году, её длина — 9 километров. "
        "Поскольку уклон на самом крутом участке достигает 25 процентов, поезда ходят по "
        "зубчатой рейке. Поездка занимает 45 минут, а синие вагоны курсируют только с июня "
        "по октябрь.",
        [
            ("От какой деревни поднимается железная дорога Серебряной долины?", "Кельми"),
            ("На какой высоте находится вершинная станция?", "2140 метров"),
            ("Когда открылась линия?", "1898"),
            ("Какова длина линии?", "9 километров"),
            ("Сколько времени занимает поездка?", "45 минут"),
            ("Какого цвета вагоны?", "синие"),
        ],
        [
            ("В каком году открылась железная дорога Серебряной долины?", "1898"),
            ("На какой высоте расположена вершинная станция дороги?", "2140 метров"),
        ],
    ),
    "ar": (
        "سكة حديد وادي الفضة",
        "تصعد سكة حديد وادي الفضة من قرية كيلمي إلى محطة القمة على ارتفاع 2140 مترًا. افتُتح "
        "الخط عام 1898 ويبلغ طوله 9 كيلومترات. ولأن انحدار أشد أجزائه يبلغ 25 في المئة، تسير "
        "القطارات على سكة مسننة. تستغرق الرحلة 45 دقيقة، ولا تعمل العربات الزرقاء إلا من يونيو "
        "إلى أكتوبر.",
        [
            ("من أي قرية تنطلق سكة حديد وادي الفضة؟", "كيلمي"),
            ("على أي ارتفاع تقع محطة القمة؟", "2140 مترًا"),
            ("متى افتُتح الخط؟", "1898"),
            ("كم يبلغ طول الخط؟", "9 كيلومترات"),
            ("كم تستغرق الرحلة؟", "45 دقيقة"),
            ("ما لون العربات؟", "الزرقاء"),
        ],
        [
            ("في أي عام افتُتحت سكة حديد وادي الفضة؟", "1898"),
            ("ما ارتفاع محطة القمة؟", "2140 مترًا"),
        ],
    ),
    "hi": (
        "चाँदी घाटी रेलवे",
        "चाँदी घाटी रेलवे केल्मी गाँव से चढ़ते हुए 2140 मीटर की ऊँचाई पर स्थित शिखर स्टेशन तक "
        "जाती है। यह लाइन 1898 में खुली थी और 9 किलोमीटर लंबी है। सबसे खड़ी चढ़ाई वाले हिस्से "
        "में ढलान 25 प्रतिशत है, इसलिए रेलगाड़ियाँ दाँतेदार पटरी पर चलती हैं। एक यात्रा में 45 "
        "मिनट लगते हैं, और नीले डिब्बे केवल जून से अक्टूबर तक चलते हैं।",
        [
            ("चाँदी घाटी रेलवे किस गाँव से शुरू होती है?", "केल्मी"),
            ("शिखर स्टेशन कितनी ऊँचाई पर है?", "2140 मीटर"),
            ("यह लाइन कब खुली थी?", "1898"),
            ("यह लाइन कितनी लंबी है?", "9 किलोमीटर"),
            ("एक यात्रा में कितना समय लगता है?", "45 मिनट"),
            ("डिब्बे किस रंग के हैं?", "नीले"),
        ],
        [
            ("चाँदी घाटी रेलवे किस वर्ष शुरू हुई?", "1898"),
            ("शिखर स्टेशन की ऊँचाई कितनी है?", "2140 मीटर"),
        ],
    ),
}

CORPUS["market"] = {
    "en": (
        "Sollby Farmers' Market",
        "Every Saturday, the old square of Sollby hosts a farmers' market with about 60 "
        "stalls. The market has been held there since 1788. Farmers sell cheese, honey, "
        "apples and smoked fish. It opens at seven o'clock in the morning and closes at one "
        "in the afternoon. The best-known stall sells goat cheese made by the Halvor family.",
        [
            ("On which day is the Sollby farmers' market held?", "Saturday"),
            ("How many stalls does the market have?", "60"),
            ("Since when has the market been held?", "1788"),
            ("At what time does the market open?", "seven o'clock"),
            ("Which family makes the goat cheese sold at the best-known stall?", "Halvor"),
            ("What kind of fish do the farmers sell?", "smoked fish"),
        ],
        [
            ("What day of the week does the market in Sollby take place?", "Saturday"),
            ("When does the farmers' market open in the morning?", "seven o'clock"),
        ],
    ),
    "de": (
        "Bauernmarkt Sollby",
        "Jeden Samstag findet auf dem alten Platz von Sollby ein Bauernmarkt mit etwa 60 "
        "Ständen statt. Der Markt wird dort seit 1788 abgehalten. Die Bauern verkaufen Käse, "
        "Honig, Äpfel und Räucherfisch. Er öffnet um sieben Uhr morgens und schließt um 13 "
        "Uhr. Der bekannteste Stand verkauft Ziegenkäse der Familie Halvor.",
        [
            ("An welchem Tag findet der Bauernmarkt in Sollby statt?", "Samstag"),
            ("Wie viele Stände hat der Markt?", "60"),
            ("Seit wann wird der Markt abgehalten?", "1788"),
            ("Um wie viel Uhr öffnet der Markt?", "sieben Uhr"),
            ("Von welcher Familie stammt der Ziegenkäse am bekanntesten Stand?", "Halvor"),
            ("Welchen Fisch verkaufen die Bauern?", "Räucherfisch"),
        ],
        [
            ("An welchem Wochentag ist Markt in Sollby?", "Samstag"),
            ("Wann öffnet der Bauernmarkt morgens?", "sieben Uhr"),
        ],
    ),
    "es": (
        "Mercado de productores de Sollby",
        "Todos los sábados, la plaza vieja de Sollby acoge un mercado de productores con unos "
        "60 puestos. El mercado se celebra allí desde 1788. Los agricultores venden queso, "
        "miel, manzanas y pescado ahumado. Abre a las siete de la mañana y cierra a la una de "
        "la tarde. El puesto más conocido vende queso de cabra elaborado por la familia "
        "Halvor.",
        [
            ("¿Qué día se celebra el mercado de productores de Sollby?", "sábados"),
            ("¿Cuántos puestos tiene el mercado?", "60"),
            ("¿Desde cuándo se celebra el mercado?", "1788"),
            ("¿A qué hora abre el mercado?", "siete de la mañana"),
            ("¿Qué familia elabora el queso de cabra del puesto más conocido?", "Halvor"),
            ("¿Qué tipo de pescado venden los agricultores?", "pescado ahumado"),
        ],
        [
            ("¿Qué día de la semana hay mercado en Sollby?", "sábados"),
            ("¿A qué hora de la mañana abre el mercado?", "siete de la mañana"),
        ],
    ),
    "fr": (
        "Marché fermier de Sollby",
        "Chaque samedi, la vieille place de Sollby accueille un marché fermier d'environ 60 "
        "étals. Le marché s'y tient depuis 1788. Les agriculteurs y vendent du fromage, du "
        "miel, des pommes et du poisson fumé. Il ouvre à sept heures du matin et ferme à "
        "treize heures. L'étal le plus connu vend le fromage de chèvre de la famille Halvor.",
        [
            ("Quel jour se tient le marché fermier de Sollby ?", "samedi"),
            ("Combien d'étals compte le marché ?", "60"),
            ("Depuis quand le marché se tient-il ?", "1788"),
            ("À quelle heure le marché ouvre-t-il ?", "sept heures"),
            ("Quelle famille fabrique le fromage de chèvre de l'étal le plus connu ?", "Halvor"),
            ("Quel poisson vend-on au marché ?", "poisson fumé"),
        ],
        [
            ("Quel jour de la semaine a lieu le marché de Sollby ?", "samedi"),
            ("À quelle heure du matin le marché ouvre-t-il ?", "sept heures"),
        ],
    ),
    "zh": (
        "索尔比农夫市集",
        "每逢星期六，索尔比的老广场上都会举办农夫市集，大约有60个摊位。这个市集从1788年起"
        "就在这里举办。农民们出售奶酪、蜂蜜、苹果和熏鱼。市集早上七点开门，下午一点收摊。"
        "最有名的摊位出售哈尔沃家族制作的山羊奶酪。",
        [
            ("索尔比农夫市集在星期几举办？", "星期六"),
            ("市集大约有多少个摊位？", "60个"),
            ("市集从哪一年开始在这里举办？", "1788年"),
            ("市集早上几点开门？", "七点"),
            ("最有名的摊位出售哪个家族制作的山羊奶酪？", "哈尔沃家族"),
            ("农民们出售什么鱼？", "熏鱼"),
        ],
        [
            ("农夫市集每周哪一天举行？", "星期六"),
            ("市集早上什么时候开门？", "七点"),
        ],
    ),
    "ru": (
        "Фермерский рынок Сольбю",
        "Каждую субботу на старой площади Сольбю работает фермерский рынок примерно на 60 "
        "прилавков. Рынок проводится здесь с 1788 года. Фермеры продают сыр, мёд, яблоки и "
        "копчёную рыбу. Он открывается в семь часов утра и закрывается в час дня. Самый "
        "известный прилавок торгует козьим сыром семьи Халвор.",
        [
            ("В какой день работает фермерский рынок Сольбю?", "субботу"),
            ("Сколько прилавков на рынке?", "60"),
            ("С какого года проводится рынок?", "1788"),
            ("Во сколько открывается рынок?", "семь часов утра"),
            ("Козьим сыром какой семьи торгует самый известный прилавок?", "Халвор"),
            ("Какую рыбу продают фермеры?", "копчёную рыбу"),
        ],
        [
            ("В какой день недели открыт рынок в Сольбю?", "субботу"),
            ("В котором часу утром открывается рынок?", "семь часов утра"),
        ],
    ),
    "ar": (
        "سوق المزارعين في سولبي",
        "في يوم السبت من كل أسبوع، تستضيف الساحة القديمة في سولبي سوقًا للمزارعين يضم نحو 60 "
        "كشكًا. ويُقام السوق هناك منذ عام 1788. يبيع المزارعون الجبن والعسل والتفاح والسمك "
        "المدخن. يفتح السوق في الساعة السابعة صباحًا ويغلق في الواحدة ظهرًا. وأشهر كشك فيه يبيع "
        "جبن الماعز الذي تصنعه عائلة هالفور.",
        [
            ("في أي يوم يُقام سوق المزارعين في سولبي؟", "السبت"),
            ("كم كشكًا يضم السوق؟", "60"),
            ("منذ أي عام يُقام السوق؟", "1788"),
            ("في أي ساعة يفتح السوق؟", "السابعة صباحًا"),
            ("أي عائلة تصنع جبن الماعز في أشهر كشك؟", "هالفور"),
            ("ما نوع السمك الذي يبيعه المزارعون؟", "السمك المدخن"),
        ],
        [
            ("في أي أيام الأسبوع يُقام السوق في سولبي؟", "السبت"),
            ("متى يفتح سوق المزارعين صباحًا؟", "السابعة صباحًا"),
        ],
    ),
    "hi": (
        "सोलबी का किसान बाज़ार",
        "हर शनिवार सोलबी के पुराने चौक पर किसानों का एक बाज़ार लगता है, जिसमें लगभग 60 "
        "दुकानें होती हैं। यह बाज़ार वहाँ 1788 से लगता आ रहा है। किसान चीज़, शहद, सेब और "
        "धुएँ में सुखाई गई मछली बेचते हैं। बाज़ार सुबह सात बजे खुलता है और दोपहर एक बजे बंद हो "
        "जाता है। सबसे मशहूर दुकान पर हालवोर परिवार बकरी के दूध से चीज़ बनाकर बेचता है।",
        [
            ("सोलबी का किसान बाज़ार किस दिन लगता है?", "शनिवार"),
            ("बाज़ार में लगभग कितनी दुकानें होती हैं?", "60"),
            ("यह बाज़ार कब से लगता आ रहा है?", "1788"),
            ("बाज़ार सुबह कितने बजे खुलता है?", "सात बजे"),
            ("सबसे मशहूर दुकान पर कौन-सा परिवार चीज़ बेचता है?", "हालवोर"),
            ("किसान किस तरह की मछली बेचते हैं?", "धुएँ में सुखाई गई मछली"),
        ],
        [
            ("सोलबी में किसान बाज़ार हफ़्ते के किस दिन लगता है?", "शनिवार"),
            ("किसान बाज़ार सुबह कब खुलता है?", "सात बजे"),
        ],
    ),
}

CORPUS["bridge"] = {
    "en": (
        "Stone Bridge of Dornau",
        "The Stone Bridge of Dornau crosses the Velna on seven arches. It was completed in "
        "1563 after eleven years of work. The bridge is 190 metres long and built of grey "
        "sandstone. Since 1975 only pedestrians and cyclists have been allowed to cross it. A "
        "bronze heron stands in the middle of the bridge.",
        [
            ("Which river does the Stone Bridge of Dornau cross?", "Velna"),
            ("How many arches does the bridge have?", "seven"),
            ("When was the bridge completed?", "1563"),
            ("How long is the bridge?", "190 metres"),
            ("What stone is the bridge built of?", "grey sandstone"),
            ("Which bronze bird stands in the middle of the bridge?", "heron"),
        ],
        [
            ("In what year was the Stone Bridge of Dornau finished?", "1563"),
            ("What material was used to build the bridge?", "grey sandstone"),
        ],
    ),
    "de": (
        "Steinerne Brücke von Dornau",
        "Die Steinerne Brücke von Dornau überspannt die Velna mit sieben Bögen. Sie wurde "
        "1563 nach elf Jahren Bauzeit fertiggestellt. Die Brücke ist 190 Meter lang und aus "
        "grauem Sandstein gebaut. Seit 1975 dürfen nur noch Fußgänger und Radfahrer sie "
        "überqueren. In der Mitte der Brücke steht ein Reiher aus Bronze.",
        [
            ("Welchen Fluss überspannt die Steinerne Brücke von Dornau?", "Velna"),
            ("Wie viele Bögen hat die Brücke?", "sieben"),
            ("Wann wurde die Brücke fertiggestellt?", "1563"),
            ("Wie lang ist die Brücke?", "190 Meter"),
            ("Woraus ist die Brücke gebaut?", "grauem Sandstein"),
            ("Welcher Vogel aus Bronze steht in der Mitte der Brücke?", "Reiher"),
        ],
        [
            ("In welchem Jahr wurde die Steinerne Brücke von Dornau vollendet?", "1563"),
            ("Aus welchem Material besteht die Brücke?", "grauem Sandstein"),
        ],
    ),
    "es": (
        "Puente de Piedra de Dornau",
        "El Puente de Piedra de Dornau cruza el río Velna sobre siete arcos. Se terminó en "
        "1563, tras once años de obras. El puente mide 190 metros de largo y está construido "
        "con arenisca gris. Desde 1975 solo pueden cruzarlo peatones y ciclistas. En el "
        "centro del puente se alza una garza de bronce.",
        [
            ("¿Qué río cruza el Puente de Piedra de Dornau?", "Velna"),
            ("¿Cuántos arcos tiene el puente?", "siete"),
            ("¿Cuándo se terminó el puente?", "1563"),
            ("¿Cuánto mide el puente?", "190 metros"),
            ("¿Con qué piedra está construido el puente?", "arenisca gris"),
            ("¿Qué ave de bronce se alza en el centro del puente?", "garza"),
        ],
        [
            ("¿En qué año se completó el Puente de Piedra de Dornau?", "1563"),
            ("¿De qué material es el puente?", "arenisca gris"),
        ],
    ),
    "fr": (
        "Pont de pierre de Dornau",
        "Le pont de pierre de Dornau franchit la Velna grâce à sept arches. Il a été achevé "
        "en 1563 après onze ans de travaux. Le pont mesure 190 mètres de long et il est bâti "
        "en grès gris. Depuis 1975, seuls les piétons et les cyclistes peuvent le traverser. "
        "Un héron en bronze se dresse au milieu du pont.",
        [
            ("Quel fleuve le pont de pierre de Dornau franchit-il ?", "Velna"),
            ("Combien d'arches le pont compte-t-il ?", "sept"),
            ("Quand le pont a-t-il été achevé ?", "1563"),
            ("Quelle est la longueur du pont ?", "190 mètres"),
            ("En quelle pierre le pont est-il bâti ?", "grès gris"),
            ("Quel oiseau en bronze se dresse au milieu du pont ?", "héron"),
        ],
        [
            ("En quelle année le pont de pierre de Dornau a-t-il été terminé ?", "1563"),
            ("De quel matériau le pont est-il fait ?", "grès gris"),
        ],
    ),
    "zh": (
        "多尔瑙石桥",
        "多尔瑙石桥以七个桥拱横跨韦尔纳河。大桥历时十一年建造，于1563年完工。桥长190米，"
        "用灰色砂岩砌成。自1975年起，只有行人和骑自行车的人可以过桥。桥中央立着一只青铜铸成"
        "的苍鹭。",
        [
            ("多尔瑙石桥横跨哪条河？", "韦尔纳河"),
            ("石桥有几个桥拱？", "七个"),
            ("石桥哪一年完工？", "1563年"),
            ("桥有多长？", "190米"),
            ("石桥是用什么砌成的？", "灰色砂岩"),
            ("桥中央立着什么鸟的铜像？", "苍鹭"),
        ],
        [
            ("多尔瑙石桥是在哪一年建成的？", "1563年"),
            ("这座桥用的是什么石材？", "灰色砂岩"),
        ],
    ),
    "ru": (
        "Каменный мост Дорнау",
        "Каменный мост Дорнау, опирающийся на семь арок, пересекает реку Вельну. Его "
        "достроили в 1563 году после одиннадцати лет работ. Длина моста — 190 метров, он "
        "сложен из серого песчаника. С 1975 года по нему разрешено ходить только пешеходам и "
        "велосипедистам. Посреди моста стоит бронзовая цапля.",
        [
            ("Какую реку пересекает Каменный мост Дорнау?", "Вельну"),
            ("На сколько арок опирается мост?", "семь"),
            ("Когда был достроен мост?", "1563"),
            ("Какова длина моста?", "190 метров"),
            ("Из какого камня сложен мост?", "серого песчаника"),
            ("Какая бронзовая птица стоит посреди моста?", "цапля"),
        ],
        [
            ("В каком году завершили строительство Каменного моста Дорнау?", "1563"),
            ("Из какого материала построен мост?", "серого песчаника"),
        ],
    ),
    "ar": (
        "الجسر الحجري في دورناو",
        "يعبر الجسر الحجري في دورناو نهر فيلنا على سبعة أقواس. اكتمل بناؤه عام 1563 بعد أحد "
        "عشر عامًا من العمل. يبلغ طول الجسر 190 مترًا، وقد بُني من الحجر الرملي الرمادي. ومنذ "
        "عام 1975 لا يُسمح بعبوره إلا للمشاة وراكبي الدراجات. ويقف في منتصف الجسر تمثال برونزي "
        "لطائر البلشون.",
        [
            ("أي نهر يعبره الجسر الحجري في دورناو؟", "فيلنا"),
            ("كم عدد أقواس الجسر؟", "سبعة"),
            ("متى اكتمل بناء الجسر؟", "1563"),
            ("كم يبلغ طول الجسر؟", "190 مترًا"),
            ("من أي حجر بُني الجسر؟", "الحجر الرملي الرمادي"),
            ("لأي طائر يوجد تمثال في منتصف الجسر؟", "البلشون"),
        ],
        [
            ("في أي عام انتهى بناء الجسر الحجري في دورناو؟", "1563"),
            ("ما المادة التي بُني منها الجسر؟", "الحجر الرملي الرمادي"),
        ],
    ),
    "hi": (
        "डोर्नाउ का पत्थर पुल",
        "डोर्नाउ का पत्थर पुल सात मेहराबों पर टिका हुआ वेल्ना नदी को पार करता है। ग्यारह वर्षों "
        "के काम के बाद यह 1563 में बनकर तैयार हुआ। पुल 190 मीटर लंबा है और स्लेटी बलुआ पत्थर "
        "से बना है। 1975 से इस पर केवल पैदल यात्री और साइकिल सवार ही चल सकते हैं। पुल के "
        "बीचोंबीच काँसे से बनी एक बगुले की मूर्ति खड़ी है।",
        [
            ("डोर्नाउ का पत्थर पुल किस नदी को पार करता है?", "वेल्ना"),
            ("पुल कितने मेहराबों पर टिका है?", "सात"),
            ("पुल कब बनकर तैयार हुआ?", "1563"),
            ("पुल कितना लंबा है?", "190 मीटर"),
            ("पुल किस पत्थर से बना है?", "स्लेटी बलुआ पत्थर"),
            ("पुल के बीचोंबीच किस पक्षी की मूर्ति है?", "बगुले"),
        ],
        [
            ("डोर्नाउ का पत्थर पुल किस वर्ष पूरा हुआ?", "1563"),
            ("पुल किस सामग्री से बनाया गया है?", "स्लेटी बलुआ पत्थर"),
        ],
    ),
}

CORPUS["festival"] = {
    "en": (
        "Vessa Kite Festival",
        "The Vessa Kite Festival takes place every year on the first Sunday of September. It "
        "began in 1951, when a schoolteacher named Ilse Varga organised a kite contest for her "
        "pupils. Today about 20,000 visitors come to watch the kites over the dunes. The "
        "largest kite ever flown there was shaped like a whale and measured 18 metres. The "
        "day ends with a concert on Gull Hill.",
        [
            ("When does the Vessa Kite Festival take place?", "first Sunday of September"),
            ("In what year did the festival begin?", "1951"),
            ("Who organised the first kite contest?", "Ilse Varga"),
            ("How many visitors come to the festival today?", "20,000"),
            ("What was the largest kite shaped like?", "whale"),
            ("Where does the closing concert take place?", "Gull Hill"),
        ],
        [
            ("When was the Vessa Kite Festival first held?", "1951"),
            ("Which schoolteacher started the kite festival?", "Ilse Varga"),
        ],
    ),
    "de": (
        "Drachenfest von Vessa",
        "Das Drachenfest von Vessa findet jedes Jahr am ersten Sonntag im September statt. Es "
        "begann 1951, als die Lehrerin Ilse Varga für ihre Schüler einen Drachenwettbewerb "
        "veranstaltete. Heute kommen rund 20.000 Besucher, um die Drachen über den Dünen zu "
        "sehen. Der größte Drachen, der dort je flog, war wie ein Wal geformt und 18 Meter "
        "lang. Der Tag endet mit einem Konzert auf dem Möwenhügel.",
        [
            ("Wann findet das Drachenfest von Vessa statt?", "ersten Sonntag im September"),
            ("In welchem Jahr begann das Fest?", "1951"),
            ("Wer veranstaltete den ersten Drachenwettbewerb?", "Ilse Varga"),
            ("Wie viele Besucher kommen heute zum Fest?", "20.000"),
            ("Wie war der größte Drachen geformt?", "wie ein Wal"),
            ("Wo findet das Abschlusskonzert statt?", "Möwenhügel"),
        ],
        [
            ("Seit welchem Jahr gibt es das Drachenfest von Vessa?", "1951"),
            ("Welche Lehrerin rief das Drachenfest ins Leben?", "Ilse Varga"),
        ],
    ),
    "es": (
        "Festival de Cometas de Vessa",
        "El Festival de Cometas de Vessa se celebra cada año el primer domingo de septiembre. "
        "Comenzó en 1951, cuando una maestra llamada Ilse Varga organizó un concurso de "
        "cometas para sus alumnos. Hoy acuden unos 20.000 visitantes a ver las cometas sobre "
        "las dunas. La cometa más grande que ha volado allí tenía forma de ballena y medía 18 "
        "metros. La jornada termina con un concierto en la Colina de las Gaviotas.",
        [
            ("¿Cuándo se celebra el Festival de Cometas de Vessa?", "primer domingo de septiembre"),
            ("¿En qué año comenzó el festival?", "1951"),
            ("¿Quién organizó el primer concurso de cometas?", "Ilse Varga"),
            ("¿Cuántos visitantes acuden hoy al festival?", "20.000"),
            ("¿Qué forma tenía la cometa más grande?", "ballena"),
            ("¿Dónde se celebra el concierto final?", "Colina de las Gaviotas"),
        ],
        [
            ("¿Desde qué año existe el Festival de Cometas de Vessa?", "1951"),
            ("¿Qué maestra creó el festival de cometas?", "Ilse Varga"),
        ],
    ),
    "fr": (
        "Fête des cerfs-volants de Vessa",
        "La fête des cerfs-volants de Vessa a lieu chaque année le premier dimanche de "
        "septembre. Elle est née en 1951, lorsqu'une institutrice nommée Ilse Varga organisa "
        "un concours de cerfs-volants pour ses élèves. Aujourd'hui, environ 20 000 visiteurs "
        "viennent admirer les cerfs-volants au-dessus des dunes. Le plus grand cerf-volant "
        "jamais lancé là-bas avait la forme d'une baleine et mesurait 18 mètres. La journée "
        "se termine par un concert sur la colline des Mouettes.",
        [
            ("Quand a lieu la fête des cerfs-volants de Vessa ?", "premier dimanche de septembre"),
            ("En quelle année la fête est-elle née ?", "1951"),
            ("Qui organisa le premier concours de cerfs-volants ?", "Ilse Varga"),
            ("Combien de visiteurs viennent aujourd'hui ?", "20 000"),
            ("Quelle forme avait le plus grand cerf-volant ?", "baleine"),
            ("Où se déroule le concert de clôture ?", "colline des Mouettes"),
        ],
        [
            ("Depuis quelle année la fête de Vessa existe-t-elle ?", "1951"),
            ("Quelle institutrice a lancé la fête des cerfs-volants ?", "Ilse Varga"),
        ],
    ),
    "zh": (
        "韦萨风筝节",
        "韦萨风筝节每年九月的第一个星期日举行。它始于1951年，当时一位名叫伊尔莎·瓦尔加的"
        "小学教师为学生们组织了一场风筝比赛。如今，每年约有2万名游客前来观看沙丘上空的风筝。"
        "这里放飞过的最大风筝形状像一头鲸鱼，长18米。节日当天以海鸥山上的一场音乐会结束。",
        [
            ("韦萨风筝节在什么时候举行？", "九月的第一个星期日"),
            ("风筝节始于哪一年？", "1951年"),
            ("谁组织了第一场风筝比赛？", "伊尔莎·瓦尔加"),
            ("每年约有多少游客前来？", "2万名"),
            ("最大的风筝是什么形状的？", "鲸鱼"),
            ("节日以哪里的音乐会结束？", "海鸥山"),
        ],
        [
            ("韦萨风筝节是从哪一年开始的？", "1951年"),
            ("哪位教师创办了风筝节？", "伊尔莎·瓦尔加"),
        ],
    ),
    "ru": (
        "Фестиваль воздушных змеев в Вессе",
        "Фестиваль воздушных змеев в Вессе проходит каждый год в первое воскресенье "
        "сентября. Он появился в 1951 году, когда учительница Ильзе Варга устроила для своих "
        "учеников конкурс воздушных змеев. Сегодня около 20 тысяч зрителей приезжают "
        "посмотреть на змеев над дюнами. Самый большой змей, когда-либо запущенный здесь, "
        "имел форму кита и был длиной 18 метров. День завершается концертом на Чаячьем холме.",
        [
            ("Когда проходит фестиваль воздушных змеев в Вессе?", "первое воскресенье сентября"),
            ("В каком году появился фестиваль?", "1951"),
            ("Кто устроил первый конкурс воздушных змеев?", "Ильзе Варга"),
            ("Сколько зрителей приезжают на фестиваль сегодня?", "20 тысяч"),
            ("Форму какого животного имел самый большой змей?", "кита"),
            ("Где проходит заключительный концерт?", "Чаячьем холме"),
        ],
        [
            ("С какого года существует фестиваль в Вессе?", "1951"),
            ("Какая учительница придумала фестиваль воздушных змеев?", "Ильзе Варга"),
        ],
    ),
    "ar": (
        "مهرجان الطائرات الورقية في فيسا",
        "يُقام مهرجان الطائرات الورقية في فيسا كل عام في أول يوم أحد من شهر سبتمبر. وقد بدأ "
        "عام 1951 عندما نظمت معلمة تُدعى إيلزه فارغا مسابقة للطائرات الورقية لتلاميذها. واليوم "
        "يأتي نحو 20 ألف زائر لمشاهدة الطائرات الورقية فوق الكثبان الرملية. وكانت أكبر طائرة "
        "ورقية حلّقت هناك على شكل حوت وبلغ طولها 18 مترًا. ويُختتم اليوم بحفل موسيقي على تلة "
        "النوارس.",
        [
            ("متى يُقام مهرجان الطائرات الورقية في فيسا؟", "أول يوم أحد من شهر سبتمبر"),
            ("في أي عام بدأ المهرجان؟", "1951"),
            ("من نظمت أول مسابقة للطائرات الورقية؟", "إيلزه فارغا"),
            ("كم زائرًا يأتي إلى المهرجان اليوم؟", "20 ألف"),
            ("على أي شكل كانت أكبر طائرة ورقية؟", "حوت"),
            ("أين يُقام الحفل الموسيقي الختامي؟", "تلة النوارس"),
        ],
        [
            ("منذ أي عام يُقام مهرجان فيسا؟", "1951"),
            ("ما اسم المعلمة التي أسست مهرجان الطائرات الورقية؟", "إيلزه فارغا"),
        ],
    ),
    "hi": (
        "वेस्सा पतंग उत्सव",
        "वेस्सा पतंग उत्सव हर साल सितंबर के पहले रविवार को मनाया जाता है। इसकी शुरुआत 1951 में "
        "हुई, जब इल्ज़े वारगा नाम की एक शिक्षिका ने अपने विद्यार्थियों के लिए पतंग प्रतियोगिता "
        "आयोजित की। आज लगभग 20,000 दर्शक टीलों के ऊपर उड़ती पतंगें देखने आते हैं। वहाँ अब तक "
        "उड़ाई गई सबसे बड़ी पतंग व्हेल के आकार की थी और 18 मीटर लंबी थी। दिन का समापन सीगल "
        "पहाड़ी पर एक संगीत कार्यक्रम के साथ होता है।",
        [
            ("वेस्सा पतंग उत्सव कब मनाया जाता है?", "सितंबर के पहले रविवार"),
            ("उत्सव की शुरुआत किस वर्ष हुई?", "1951"),
            ("पहली पतंग प्रतियोगिता किसने आयोजित की?", "इल्ज़े वारगा"),
            ("आज लगभग कितने दर्शक आते हैं?", "20,000"),
            ("सबसे बड़ी पतंग किस आकार की थी?", "व्हेल"),
            ("समापन संगीत कार्यक्रम कहाँ होता है?", "सीगल पहाड़ी"),
        ],
        [
            ("वेस्सा पतंग उत्सव कब से मनाया जा रहा है?", "1951"),
            ("किस शिक्षिका ने पतंग उत्सव शुरू किया?", "इल्ज़े वारगा"),
        ],
    ),
}

CORPUS["mountain"] = {
    "en": (
        "Mount Orvald",
        "Mount Orvald is the highest peak of the Grey Range, rising to 3,012 metres. It was "
        "first climbed in 1861 by a shepherd named Piet Lomas. Snow covers the summit for "
        "eight months of the year. A glacier called the White Tongue flows down its northern "
        "side, and its meltwater feeds the Orsa river.",
        [
            ("How high is Mount Orvald?", "3,012 metres"),
            ("Which range is Mount Orvald the highest peak of?", "Grey Range"),
            ("When was Mount Orvald first climbed?", "1861"),
            ("Who first climbed Mount Orvald?", "Piet Lomas"),
            ("For how many months a year is the summit covered with snow?", "eight months"),
            ("What is the name of the glacier on the northern side?", "White Tongue"),
        ],
        [
            ("What is the height of Mount Orvald?", "3,012 metres"),
            ("Which shepherd made the first ascent of Mount Orvald?", "Piet Lomas"),
        ],
    ),
    "de": (
        "Orvald",
        "Der Orvald ist mit 3012 Metern der höchste Gipfel des Grauen Gebirges. Er wurde 1861 "
        "zum ersten Mal von einem Hirten namens Piet Lomas bestiegen. Der Gipfel ist acht "
        "Monate im Jahr mit Schnee bedeckt. An seiner Nordseite fließt ein Gletscher namens "
        "Weiße Zunge hinab, dessen Schmelzwasser die Orsa speist.",
        [
            ("Wie hoch ist der Orvald?", "3012 Metern"),
            ("Zu welchem Gebirge gehört der Orvald?", "Grauen Gebirges"),
            ("Wann wurde der Orvald zum ersten Mal bestiegen?", "1861"),
            ("Wer bestieg den Orvald als Erster?", "Piet Lomas"),
            ("Wie viele Monate im Jahr ist der Gipfel mit Schnee bedeckt?", "acht Monate"),
            ("Wie heißt der Gletscher an der Nordseite?", "Weiße Zunge"),
        ],
        [
            ("Welche Höhe hat der Orvald?", "3012 Metern"),
            ("Welcher Hirte bestieg den Orvald zuerst?", "Piet Lomas"),
        ],
    ),
    "es": (
        "Monte Orvald",
        "El monte Orvald es la cumbre más alta de la Cordillera Gris, con 3012 metros de "
        "altitud. Fue escalado por primera vez en 1861 por un pastor llamado Piet Lomas. La "
        "nieve cubre la cima durante ocho meses al año. Por su ladera norte desciende un "
        "glaciar llamado Lengua Blanca, cuyas aguas de deshielo alimentan el río Orsa.",
        [
            ("¿Qué altura tiene el monte Orvald?", "3012 metros"),
            ("¿A qué cordillera pertenece el monte Orvald?", "Cordillera Gris"),
            ("¿Cuándo fue escalado el monte Orvald por primera vez?", "1861"),
            ("¿Quién escaló el monte Orvald por primera vez?", "Piet Lomas"),
            ("¿Durante cuántos meses al año cubre la nieve la cima?", "ocho meses"),
            ("¿Cómo se llama el glaciar de la ladera norte?", "Lengua Blanca"),
        ],
        [
            ("¿Cuál es la altitud del monte Orvald?", "3012 metros"),
            ("¿Qué pastor subió primero al monte Orvald?", "Piet Lomas"),
        ],
    ),
    "fr": (
        "Mont Orvald",
        "Le mont Orvald est le plus haut sommet de la chaîne Grise, avec 3012 mètres "
        "d'altitude. Il a été gravi pour la première fois en 1861 par un berger nommé Piet "
        "Lomas. La neige recouvre le sommet huit mois par an. Sur son versant nord descend un "
        "glacier appelé la Langue Blanche, dont les eaux de fonte alimentent l'Orsa.",
        [
            ("Quelle est l'altitude du mont Orvald ?", "3012 mètres"),
            ("À quelle chaîne appartient le mont Orvald ?", "chaîne Grise"),
            ("Quand le mont Orvald a-t-il été gravi pour la première fois ?", "1861"),
            ("Qui a gravi le mont Orvald en premier ?", "Piet Lomas"),
            ("Combien de mois par an la neige recouvre-t-elle le sommet ?", "huit mois"),
            ("Comment s'appelle le glacier du versant nord ?", "Langue Blanche"),
        ],
        [
            ("Quelle hauteur atteint le mont Orvald ?", "3012 mètres"),
            ("Quel berger a réussi la première ascension du mont Orvald ?", "Piet Lomas"),
        ],
    ),
    "zh": (
        "奥尔瓦尔德山",
        "奥尔瓦尔德山海拔3012米，是灰色山脉的最高峰。1861年，一位名叫皮特·洛马斯的牧羊人"
        "首次登上了山顶。一年中有八个月，山顶都被积雪覆盖。山的北坡有一条名为“白舌”的冰川，"
        "冰川融水汇入奥尔萨河。",
        [
            ("奥尔瓦尔德山海拔多少米？", "3012米"),
            ("奥尔瓦尔德山是哪座山脉的最高峰？", "灰色山脉"),
            ("奥尔瓦尔德山是哪一年首次被登顶的？", "1861年"),
            ("谁首次登上了奥尔瓦尔德山？", "皮特·洛马斯"),
            ("山顶一年中有几个月被积雪覆盖？", "八个月"),
            ("北坡的冰川叫什么名字？", "白舌"),
        ],
        [
            ("奥尔瓦尔德山有多高？", "3012米"),
            ("第一个登上奥尔瓦尔德山的牧羊人是谁？", "皮特·洛马斯"),
        ],
    ),
    "ru": (
        "Орвальд",
        "Гора Орвальд — высочайшая вершина Серого хребта, её высота составляет 3012 метров. "
        "Впервые на неё поднялся в 1861 году пастух по имени Пит Ломас. Снег покрывает "
        "вершину восемь месяцев в году. По северному склону спускается ледник под названием "
        "Белый Язык, талые воды которого питают реку Орсу.",
        [
            ("Какова высота горы Орвальд?", "3012 метров"),
            ("Высочайшей вершиной какого хребта является Орвальд?", "Серого хребта"),
            ("Когда впервые поднялись на Орвальд?", "1861"),
            ("Кто первым поднялся на гору Орвальд?", "Пит Ломас"),
            ("Сколько месяцев в году вершина покрыта снегом?", "восемь месяцев"),
            ("Как называется ледник на северном склоне?", "Белый Язык"),
        ],
        [
            ("Сколько метров составляет высота Орвальда?", "3012 метров"),
            ("Какой пастух первым взошёл на Орвальд?", "Пит Ломас"),
        ],
    ),
    "ar": (
        "جبل أورفالد",
        "جبل أورفالد هو أعلى قمة في سلسلة الجبال الرمادية، إذ يبلغ ارتفاعه 3012 مترًا. وقد "
        "تسلقه لأول مرة عام 1861 راعٍ يُدعى بيت لوماس. ويغطي الثلج القمة ثمانية أشهر في السنة. "
        "وعلى سفحه الشمالي ينحدر نهر جليدي يُسمى اللسان الأبيض، وتغذي مياه ذوبانه نهر أورسا.",
        [
            ("كم يبلغ ارتفاع جبل أورفالد؟", "3012 مترًا"),
            ("في أي سلسلة جبلية يقع جبل أورفالد؟", "سلسلة الجبال الرمادية"),
            ("متى كان أول تسلق لجبل أورفالد؟", "1861"),
            ("من أول من تسلق جبل أورفالد؟", "بيت لوماس"),
            ("كم شهرًا في السنة يغطي الثلج القمة؟", "ثمانية أشهر"),
            ("ما اسم النهر الجليدي على السفح الشمالي؟", "اللسان الأبيض"),
        ],
        [
            ("ما ارتفاع جبل أورفالد؟", "3012 مترًا"),
            ("ما اسم الراعي الذي صعد جبل أورفالد أولًا؟", "بيت لوماس"),
        ],
    ),
    "hi": (
        "ओर्वाल्ड पर्वत",
        "ओर्वाल्ड पर्वत 3012 मीटर ऊँचा है और धूसर पर्वतमाला की सबसे ऊँची चोटी है। इस पर पहली "
        "बार 1861 में पीट लोमास नाम के एक गड़रिये ने चढ़ाई की थी। साल में आठ महीने इसकी चोटी "
        "बर्फ़ से ढकी रहती है। इसकी उत्तरी ढलान से सफ़ेद जीभ नाम का एक हिमनद नीचे उतरता है, "
        "जिसका पिघला पानी ओर्सा नदी में जाता है।",
        [
            ("ओर्वाल्ड पर्वत कितना ऊँचा है?", "3012 मीटर"),
            ("ओर्वाल्ड किस पर्वतमाला की सबसे ऊँची चोटी है?", "धूसर पर्वतमाला"),
            ("ओर्वाल्ड पर पहली बार कब चढ़ाई की गई?", "1861"),
            ("ओर्वाल्ड पर सबसे पहले किसने चढ़ाई की?", "पीट लोमास"),
            ("साल में कितने महीने चोटी बर्फ़ से ढकी रहती है?", "आठ महीने"),
            ("उत्तरी ढलान के हिमनद का नाम क्या है?", "सफ़ेद जीभ"),
        ],
        [
            ("ओर्वाल्ड पर्वत की ऊँचाई कितनी है?", "3012 मीटर"),
            ("किस गड़रिये ने सबसे पहले ओर्वाल्ड पर चढ़ाई की?", "पीट लोमास"),
        ],
    ),
}

CORPUS["bees"] = {
    "en": (
        "Honeybees",
        "Honeybees make honey from the nectar of flowers. In summer a strong colony can "
        "contain about 50,000 bees. The queen is the only bee that lays eggs, up to 2,000 in "
        "a single day. Worker bees live for about six weeks in summer, and a beekeeper "
        "usually harvests the honey in July.",
        [
            ("What do honeybees make honey from?", "nectar"),
            ("How many bees can a strong colony contain in summer?", "50,000"),
            ("Which bee is the only one that lays eggs?", "queen"),
            ("How many eggs can the queen lay in a single day?", "2,000"),
            ("How long do worker bees live in summer?", "six weeks"),
            ("In which month is the honey usually harvested?", "July"),
        ],
        [
            ("What part of flowers do bees make honey from?", "nectar"),
            ("How long is the life of a worker bee in summer?", "six weeks"),
        ],
    ),
    "de": (
        "Honigbienen",
        "Honigbienen stellen Honig aus dem Nektar von Blüten her. Im Sommer kann ein starkes "
        "Volk etwa 50.000 Bienen umfassen. Die Königin ist die einzige Biene, die Eier legt, "
        "bis zu 2000 an einem einzigen Tag. Arbeiterinnen leben im Sommer etwa sechs Wochen, "
        "und der Imker erntet den Honig meist im Juli.",
        [
            ("Woraus stellen Honigbienen Honig her?", "Nektar"),
            ("Wie viele Bienen kann ein starkes Volk im Sommer umfassen?", "50.000"),
            ("Welche Biene legt als einzige Eier?", "Königin"),
            ("Wie viele Eier legt die Königin höchstens an einem Tag?", "2000"),
            ("Wie lange leben Arbeiterinnen im Sommer?", "sechs Wochen"),
            ("In welchem Monat erntet der Imker meist den Honig?", "Juli"),
        ],
        [
            ("Aus welchem Teil der Blüten machen Bienen Honig?", "Nektar"),
            ("Wie alt werden Arbeiterinnen im Sommer?", "sechs Wochen"),
        ],
    ),
    "es": (
        "Abejas melíferas",
        "Las abejas melíferas elaboran la miel a partir del néctar de las flores. En verano, "
        "una colonia fuerte puede tener unas 50.000 abejas. La reina es la única abeja que "
        "pone huevos, hasta 2000 en un solo día. Las obreras viven unas seis semanas en "
        "verano, y el apicultor suele cosechar la miel en julio.",
        [
            ("¿A partir de qué elaboran la miel las abejas?", "néctar"),
            ("¿Cuántas abejas puede tener una colonia fuerte en verano?", "50.000"),
            ("¿Qué abeja es la única que pone huevos?", "reina"),
            ("¿Cuántos huevos puede poner la reina en un día?", "2000"),
            ("¿Cuánto tiempo viven las obreras en verano?", "seis semanas"),
            ("¿En qué mes suele cosecharse la miel?", "julio"),
        ],
        [
            ("¿De qué parte de las flores hacen miel las abejas?", "néctar"),
            ("¿Cuánto vive una abeja obrera en verano?", "seis semanas"),
        ],
    ),
    "fr": (
        "Abeilles domestiques",
        "Les abeilles domestiques fabriquent le miel à partir du nectar des fleurs. En été, "
        "une colonie forte peut compter environ 50 000 abeilles. La reine est la seule "
        "abeille qui pond des œufs, jusqu'à 2000 en une seule journée. Les ouvrières vivent "
        "environ six semaines en été, et l'apiculteur récolte généralement le miel en juillet.",
        [
            ("À partir de quoi les abeilles fabriquent-elles le miel ?", "nectar"),
            ("Combien d'abeilles une colonie forte peut-elle compter en été ?", "50 000"),
            ("Quelle abeille est la seule à pondre des œufs ?", "reine"),
            ("Combien d'œufs la reine peut-elle pondre en une journée ?", "2000"),
            ("Combien de temps vivent les ouvrières en été ?", "six semaines"),
            ("En quel mois l'apiculteur récolte-t-il généralement le miel ?", "juillet"),
        ],
        [
            ("Avec quelle partie des fleurs les abeilles font-elles le miel ?", "nectar"),
            ("Quelle est la durée de vie d'une ouvrière en été ?", "six semaines"),
        ],
    ),
    "zh": (
        "蜜蜂",
        "蜜蜂用花朵的花蜜酿造蜂蜜。夏天，一个强壮的蜂群大约有5万只蜜蜂。蜂王是唯一会产卵的"
        "蜜蜂，一天最多能产2000枚卵。夏季工蜂大约只能活六周，养蜂人通常在七月采收蜂蜜。",
        [
            ("蜜蜂用什么酿造蜂蜜？", "花蜜"),
            ("夏天一个强壮的蜂群大约有多少只蜜蜂？", "5万只"),
            ("哪种蜜蜂是唯一会产卵的？", "蜂王"),
            ("蜂王一天最多能产多少枚卵？", "2000枚"),
            ("夏季工蜂大约能活多久？", "六周"),
            ("养蜂人通常在几月采收蜂蜜？", "七月"),
        ],
        [
            ("蜂蜜是用花朵的什么酿成的？", "花蜜"),
            ("工蜂在夏天的寿命大约是多长？", "六周"),
        ],
    ),
    "ru": (
        "Медоносные пчёлы",
        "Медоносные пчёлы делают мёд из нектара цветов. Летом сильная семья может насчитывать "
        "около 50 тысяч пчёл. Матка — единственная пчела, которая откладывает яйца, до 2000 "
        "штук за один день. Рабочие пчёлы живут летом около шести недель, а пасечник обычно "
        "собирает мёд в июле.",
        [
            ("Из чего пчёлы делают мёд?", "нектара"),
            ("Сколько пчёл может насчитывать сильная семья летом?", "50 тысяч"),
            ("Какая пчела единственная откладывает яйца?", "Матка"),
            ("Сколько яиц может отложить матка за один день?", "2000"),
            ("Сколько живут рабочие пчёлы летом?", "шести недель"),
            ("В каком месяце пасечник обычно собирает мёд?", "июле"),
        ],
        [
            ("Из какого вещества цветов пчёлы делают мёд?", "нектара"),
            ("Как долго живёт рабочая пчела летом?", "шести недель"),
        ],
    ),
    "ar": (
        "نحل العسل",
        "يصنع نحل العسل العسلَ من رحيق الأزهار. وفي الصيف قد تضم الطائفة القوية نحو 50 ألف "
        "نحلة. والملكة هي النحلة الوحيدة التي تضع البيض، إذ تضع ما يصل إلى 2000 بيضة في اليوم "
        "الواحد. وتعيش الشغالات في الصيف نحو ستة أسابيع، ويقطف النحال العسل عادةً في شهر "
        "يوليو.",
        [
            ("من أي شيء يصنع النحل العسل؟", "رحيق الأزهار"),
            ("كم نحلة قد تضم الطائفة القوية في الصيف؟", "50 ألف"),
            ("ما النحلة الوحيدة التي تضع البيض؟", "الملكة"),
            ("كم بيضة تضع الملكة في اليوم الواحد؟", "2000"),
            ("كم تعيش الشغالات في الصيف؟", "ستة أسابيع"),
            ("في أي شهر يقطف النحال العسل عادةً؟", "يوليو"),
        ],
        [
            ("ما الذي يجمعه النحل من الأزهار لصنع العسل؟", "رحيق الأزهار"),
            ("ما مدة حياة الشغالة في الصيف؟", "ستة أسابيع"),
        ],
    ),
    "hi": (
        "मधुमक्खियाँ",
        "मधुमक्खियाँ फूलों के मकरंद से शहद बनाती हैं। गर्मियों में एक मज़बूत छत्ते में लगभग "
        "50,000 मधुमक्खियाँ हो सकती हैं। रानी मक्खी ही अकेली ऐसी मधुमक्खी है जो अंडे देती है, "
        "और वह एक ही दिन में 2,000 तक अंडे दे सकती है। गर्मियों में श्रमिक मधुमक्खियाँ लगभग "
        "छह सप्ताह जीवित रहती हैं, और मधुमक्खी पालक आमतौर पर जुलाई में शहद निकालता है।",
        [
            ("मधुमक्खियाँ किससे शहद बनाती हैं?", "मकरंद"),
            ("गर्मियों में एक मज़बूत छत्ते में लगभग कितनी मधुमक्खियाँ हो सकती हैं?", "50,000"),
            ("कौन-सी मधुमक्खी अकेली अंडे देती है?", "रानी मक्खी"),
            ("रानी मक्खी एक दिन में कितने अंडे दे सकती है?", "2,000"),
            ("गर्मियों में श्रमिक मधुमक्खियाँ कितने समय जीवित रहती हैं?", "छह सप्ताह"),
            ("शहद आमतौर पर किस महीने में निकाला जाता है?", "जुलाई"),
        ],
        [
            ("शहद फूलों के किस पदार्थ से बनता है?", "मकरंद"),
            ("गर्मियों में श्रमिक मधुमक्खी की आयु कितनी होती है?", "छह सप्ताह"),
        ],
    ),
}

OUTPUTS = ("train.json", "dev.json", "passages.jsonl")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _answer_start(context: str, answer: str, where: str) -> int:
    """Offset of ``answer`` in ``context``; the answer must occur exactly once."""
    count = context.count(answer)
    if count == 0:
        raise ValueError(f"{where}: answer {answer!r} is not in the paragraph")
    if count > 1:
        raise ValueError(f"{where}: answer {answer!r} occurs {count} times; make it distinctive")
    return context.index(answer)


def _qas(topic: str, lang: str, context: str, pairs, tag: str) -> list[dict]:
    out = []
    for n, (question, answer) in enumerate(pairs, start=1):
        qid = f"demo-{topic}-{lang}-{tag}{n}"
        question, answer = _nfc(question).strip(), _nfc(answer).strip()
        if not question or not answer:
            raise ValueError(f"{qid}: empty question or answer")
        start = _answer_start(context, answer, qid)
        out.append({"id": qid, "question": question,
                    "answers": [{"text": answer, "answer_start": start}], "lang": lang})
    return out


def build() -> dict[str, object]:
    """All three outputs as Python objects: SQuAD dicts for train/dev, row lists for jsonl."""
    train, dev, passages = [], [], []
    for topic, by_lang in CORPUS.items():
        missing = set(LANGS) - set(by_lang)
        extra = set(by_lang) - set(LANGS)
        if missing or extra:
            raise ValueError(f"{topic}: languages missing {sorted(missing)}, extra {sorted(extra)}")
        for lang in LANGS:
            title, context, train_pairs, dev_pairs = by_lang[lang]
            title, context = _nfc(title), _nfc(context)
            if not 4 <= len(train_pairs) <= 6:
                raise ValueError(f"{topic}-{lang}: {len(train_pairs)} train questions (want 4-6)")
            if not 1 <= len(dev_pairs) <= 2:
                raise ValueError(f"{topic}-{lang}: {len(dev_pairs)} dev questions (want 1-2)")
            train_q = {_nfc(q) for q, _ in train_pairs}
            if len(train_q) != len(train_pairs) or train_q & {_nfc(q) for q, _ in dev_pairs}:
                raise ValueError(f"{topic}-{lang}: repeated question text")
            train.append({"title": title, "paragraphs": [
                {"context": context, "qas": _qas(topic, lang, context, train_pairs, "")}]})
            dev.append({"title": title, "paragraphs": [
                {"context": context, "qas": _qas(topic, lang, context, dev_pairs, "dev")}]})
            passages.append({"id": f"{topic}-{lang}", "title": title, "text": context,
                             "lang": lang, "article_id": topic})
    return {
        "train.json": {"version": "1.1", "data": train},
        "dev.json": {"version": "1.1", "data": dev},
        "passages.jsonl": passages,
    }


def render(built: dict[str, object]) -> dict[str, str]:
    """File name -> exact text written (UTF-8, one JSON object per line for .jsonl)."""
    out = {}
    for name, obj in built.items():
        if name.endswith(".jsonl"):
            out[name] = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in obj)
        else:
            out[name] = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the files in --out differ from a rebuild")
    args = parser.parse_args(argv)
    texts = render(build())
    if args.check:
        stale = [n for n, t in texts.items()
                 if not (args.out / n).is_file() or (args.out / n).read_text("utf-8") != t]
        if stale:
            print(f"stale: {', '.join(stale)} (rerun {Path(__file__).name})", file=sys.stderr)
            return 1
        print("demo corpus is up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8")
    n_par = sum(len(d["paragraphs"]) for d in build()["train.json"]["data"])
    print(f"wrote {', '.join(texts)} to {args.out} ({n_par} paragraphs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
