/**
 * Writes common-passwords.txt: the most common passwords seen in public breach
 * corpora (well-known top entries, written down here) plus the mechanical variants
 * people build from them (capitalised, digit and year suffixes, keyboard walks).
 * Run: node src/users/common-passwords-generate.ts
 * The runtime check (password-policy.ts) also normalises leetspeak and strips
 * digit/symbol affixes, so the file only needs base forms and frequent variants.
 */
import { writeFileSync } from 'node:fs'

const TOP = `123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123
football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321
superman 1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter
buster soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel
starwars klaster 112233 george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom
777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea
biteme matthew access yankees 987654321 dallas austin thunder taylor matrix mobilemail mom monitor monitoring
montana moon moscow william corvette hello martin heather secret merlin diamond 1234qwer gfhjkm hammer silver
222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie
richard samantha bigdog guitar jackson whatever mickey chicken sparky snoopy maverick phoenix camaro peanut
morgan welcome falcon cowboy ferrari samsung andrea smokey steelers joseph mercedes dakota arsenal eagles
melissa boomer booboo spider nascar monster tigers yellow xxxxxx 123123123 gateway marina diablo bulldog
qwer1234 compaq purple hardcore banana junior hannah 123654 porsche lakers iceman money cowboys 987654
london tennis 999999 ncc1701 coffee scooby 0000 miller boston q1w2e3r4 brandon yamaha chester mother forever
johnny edward 333333 oliver redsox player nikita knight fender barney midnight please brandy chicago
badboy slayer rangers charles angel flower rabbit wizard bigdick jasper enter rachel chris steven winner
adidas victoria natasha 1q2w3e4r jasmine winter prince panties marine ghbdtn fishing cocacola casper james
232323 raiders 888888 marlboro gandalf asdfasdf crystal 87654321 12344321 golden 8675309 panther lauren
angela bitch spanky thx1138 angels madison winston shannon mike toyota blowjob jordan23 canada sophie
apples dick tiger razz 123abc pokemon qazxsw 55555 qwaszx muffin johnson murphy cooper jonathan liverpoo
david danielle 159357 jackie 1990 123456a 789456 turtle horny abcd1234 scorpion qazwsxedc 101010 butter
carlos password1 dennis slipknot qwerty123 booger asdf 1991 black startrek 12341234 cameron newyork rainbow
nathan john 1992 rocket viking redskins asdfghjkl 1212 sierra peaches gemini doctor wilson sandra helpme
qwertyui victor florida dolphin pookie captain tucker blue liverpool theman bandit dolphins maddog packers
jaguar lovers nicholas united tiffany maxwell zzzzzz nirvana jeremy suckit stupid porn monica elephant
giants jackass hotdog rosebud success debbie mountain 444444 xxxxxxxx warrior 1q2w3e4r5t q1w2e3 123456q
albert metallic lucky azerty 7777 shithead alex bond007 alexis 1111111 samson 5150 willie scorpio bonnie
gators benjamin voodoo driver dexter 2112 jason calvin freddy 212121 creative 12345a sydney rush2112 1989
asdfghjk red123 blowme ou812 welcome1 admin admin123 administrator root toor changeme letmein1 passw0rd
p@ssw0rd p@ssword pa55word password123 password12 iloveyou1 sunshine1 princess1 football1 baseball1
monkey1 dragon1 master1 shadow1 superman1 michael1 qwerty1 abc12345 1qazxsw2 zaq12wsx zaq1zaq1 1q2w3e
qwe123 qweasd qweasdzxc asdzxc zxc123 aa123456 a123456 123456789a 1234567a 1q2w3e4r5t6y 0987654321
11223344 1122334455 147258369 147852369 123698745 741852963 963852741 789456123 12qwaszx q2w3e4r5
letmein123 welcome123 hello123 test123 test1234 guest default user login secret123 master123 access14
trustno1! iloveu lovely loveme fuckyou fuckoff football123 baseball123 soccer123 hockey123 starwars1
pokemon1 naruto minecraft fortnite roblox zelda mario matrix1 hunter2 cheese1 computer1 internet1
sunflower butterfly chocolate strawberry pineapple snowball buttercup cupcake sweetheart friends
family jesus christ blessed heaven angel1 faith grace hope peace lovelove iloveyou2 babygirl baby123
mylove mybaby princess123 qwerty12345 qwertyu 1qaz2wsx3edc zaq!2wsx !qaz2wsx 1qaz@wsx qwerty! password!
summer2024 winter2024 spring2024 autumn2024 summer2025 winter2025 company company123 office office123
sealpost sealpost123`

const WORDS = `password passw0rd p@ssw0rd letmein welcome qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm iloveyou
princess sunshine football baseball basketball soccer hockey dragon monkey shadow master superman batman
spiderman starwars pokemon michael jennifer jessica ashley charlie summer winter spring autumn monday
friday freedom whatever trustno1 admin administrator root changeme secret hello love lovely angel
flower purple orange yellow banana cookie cheese chocolate computer internet security welcome
company office google facebook microsoft apple samsung nintendo playstation xbox minecraft fortnite
london paris berlin madrid newyork chicago boston dallas texas florida california america canada
england germany france mexico brazil india china japan russia australia
liverpool chelsea arsenal barcelona realmadrid juventus manchester united lakers yankees cowboys
steelers packers patriots raiders eagles giants rangers tigers panthers jaguars falcons dolphins
mustang corvette ferrari porsche mercedes toyota honda yamaha harley
hunter killer ninja warrior knight wizard phoenix falcon thunder lightning matrix merlin gandalf
jordan michael thomas robert daniel andrew joshua matthew anthony william james john david richard
charles joseph george edward nicholas jonathan benjamin alexander christopher
jessica amanda sarah nicole michelle melissa stephanie elizabeth heather samantha victoria natalie
hannah madison emily olivia sophia isabella emma abigail lauren rachel rebecca
tigger buster bailey maggie molly buddy rocky lucky max bella daisy charlie sadie coco
qazwsx 1qaz2wsx zaq12wsx q1w2e3r4 abcdef abcdefg abcdefgh abc123 iloveu fuckyou
jesus christ heaven blessed family friends forever together happiness sweetheart babygirl
sealpost email mailserver postmaster`

// The runtime check strips digit/symbol affixes anyway; these are the forms worth listing verbatim.
const SUFFIXES = ['', '1', '12', '123', '1234', '12345', '!', '1!', '2024', '2025', '2026']

const walks = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1qaz2wsx3edc4rfv', 'qazwsxedcrfv', '1q2w3e4r5t6y7u8i9o0p', 'q1w2e3r4t5y6u7i8o9p0', '!qaz@wsx#edc', 'zaq1xsw2cde3']
const out = new Set<string>()
for (const p of TOP.split(/\s+/)) if (p) out.add(p.toLowerCase())
for (const w of WORDS.split(/\s+/)) {
  if (!w) continue
  for (const s of SUFFIXES) out.add(`${w}${s}`)
}
for (const w of walks) for (let n = 6; n <= w.length; n++) out.add(w.slice(0, n))
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789') for (const n of [6, 8, 10, 12, 14, 16]) out.add(c.repeat(n))
const digits = '01234567890123456789'
for (let start = 0; start < 10; start++) for (const n of [6, 8, 10, 12]) out.add(digits.slice(start, start + n))

const header = '# generated by src/users/common-passwords-generate.ts, do not edit: common passwords, lowercase, one a line\n'
writeFileSync(new URL('./common-passwords.txt', import.meta.url), header + [...out].sort().join('\n') + '\n')
console.log(`${out.size} entries`)
