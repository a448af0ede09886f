/*
 * Key tables for the monitor: QEMU's key names (QKeyCode, qapi/ui.json)
 * and key numbers (its "qnum": PC scancode set 1, an 0xe0-prefixed code
 * folded to 0x80 | code) mapped to Linux KEY_* codes, the codes the input
 * handlers take (SDK input.h). The Linux codes are those of
 * linux/input-event-codes.h.
 */
#include <string.h>

#include "core.h"
#include "input-qmp.h"

typedef struct qcode_entry {
    const char *name;
    uint16_t code;
} qcode_entry;

/* QKeyCode order, as QEMU lists it ("unmapped" has no Linux key). */
static const qcode_entry qcodes[] = {
    {"shift", 42}, {"shift_r", 54}, {"alt", 56}, {"alt_r", 100},
    {"ctrl", 29}, {"ctrl_r", 97}, {"menu", 139}, {"esc", 1},
    {"1", 2}, {"2", 3}, {"3", 4}, {"4", 5}, {"5", 6},
    {"6", 7}, {"7", 8}, {"8", 9}, {"9", 10}, {"0", 11},
    {"minus", 12}, {"equal", 13}, {"backspace", 14}, {"tab", 15},
    {"q", 16}, {"w", 17}, {"e", 18}, {"r", 19}, {"t", 20},
    {"y", 21}, {"u", 22}, {"i", 23}, {"o", 24}, {"p", 25},
    {"bracket_left", 26}, {"bracket_right", 27}, {"ret", 28},
    {"a", 30}, {"s", 31}, {"d", 32}, {"f", 33}, {"g", 34},
    {"h", 35}, {"j", 36}, {"k", 37}, {"l", 38},
    {"semicolon", 39}, {"apostrophe", 40}, {"grave_accent", 41}, {"backslash", 43},
    {"z", 44}, {"x", 45}, {"c", 46}, {"v", 47}, {"b", 48}, {"n", 49}, {"m", 50},
    {"comma", 51}, {"dot", 52}, {"slash", 53}, {"asterisk", 55}, {"spc", 57},
    {"caps_lock", 58},
    {"f1", 59}, {"f2", 60}, {"f3", 61}, {"f4", 62}, {"f5", 63},
    {"f6", 64}, {"f7", 65}, {"f8", 66}, {"f9", 67}, {"f10", 68},
    {"num_lock", 69}, {"scroll_lock", 70},
    {"kp_divide", 98}, {"kp_multiply", 55}, {"kp_subtract", 74}, {"kp_add", 78},
    {"kp_enter", 96}, {"kp_decimal", 83}, {"sysrq", 99},
    {"kp_0", 82}, {"kp_1", 79}, {"kp_2", 80}, {"kp_3", 81}, {"kp_4", 75},
    {"kp_5", 76}, {"kp_6", 77}, {"kp_7", 71}, {"kp_8", 72}, {"kp_9", 73},
    {"less", 86}, {"f11", 87}, {"f12", 88}, {"print", 210},
    {"home", 102}, {"pgup", 104}, {"pgdn", 109}, {"end", 107},
    {"left", 105}, {"up", 103}, {"down", 108}, {"right", 106},
    {"insert", 110}, {"delete", 111},
    {"stop", 128}, {"again", 129}, {"props", 130}, {"undo", 131}, {"front", 132},
    {"copy", 133}, {"open", 134}, {"paste", 135}, {"find", 136}, {"cut", 137},
    {"lf", 101}, {"help", 138}, {"meta_l", 125}, {"meta_r", 126}, {"compose", 127},
    {"pause", 119}, {"ro", 89}, {"hiragana", 91}, {"henkan", 92}, {"yen", 124},
    {"muhenkan", 94}, {"katakanahiragana", 93}, {"kp_comma", 121}, {"kp_equals", 117},
    {"power", 116}, {"sleep", 142}, {"wake", 143},
    {"audionext", 163}, {"audioprev", 165}, {"audiostop", 166}, {"audioplay", 164},
    {"audiomute", 113}, {"volumeup", 115}, {"volumedown", 114}, {"mediaselect", 226},
    {"mail", 155}, {"calculator", 140}, {"computer", 157},
    {"ac_home", 172}, {"ac_back", 158}, {"ac_forward", 159}, {"ac_refresh", 173},
    {"ac_bookmarks", 156}, {"lang1", 122}, {"lang2", 123},
    {"f13", 183}, {"f14", 184}, {"f15", 185}, {"f16", 186}, {"f17", 187}, {"f18", 188},
    {"f19", 189}, {"f20", 190}, {"f21", 191}, {"f22", 192}, {"f23", 193}, {"f24", 194},
};

/* Set 1 codes after an 0xe0 prefix (qnum 0x80 | code) and their keys. */
static const struct {
    uint8_t qnum;
    uint16_t code;
} qnum_ext[] = {
    {0x9c, 96},  {0x9d, 97},  {0xb5, 98},  {0xb7, 99},  {0xb8, 100}, {0xc6, 119},
    {0xc7, 102}, {0xc8, 103}, {0xc9, 104}, {0xcb, 105}, {0xcd, 106}, {0xcf, 107},
    {0xd0, 108}, {0xd1, 109}, {0xd2, 110}, {0xd3, 111}, {0xdb, 125}, {0xdc, 126},
    {0xdd, 127}, {0xde, 116}, {0xdf, 142}, {0xe3, 143}, {0xa0, 113}, {0xae, 114},
    {0xb0, 115},
};

int input_qcode_to_linux(const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(qcodes); i++) {
        if (!strcmp(qcodes[i].name, name)) {
            return qcodes[i].code;
        }
    }
    return -1;
}

/* Set 1 make codes 0x01..0x58 are Linux's KEY_ESC..KEY_F12 one for one
 * (Linux numbered its keys after them); the rest come from the table. */
int input_qnum_to_linux(int64_t qnum)
{
    if (qnum >= 0x01 && qnum <= 0x58 && qnum != 0x54 && qnum != 0x55) {
        return (int)qnum;
    }
    if (qnum == 0x54) {
        return 99; /* Alt+Print sends 0x54: SysRq */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(qnum_ext); i++) {
        if (qnum_ext[i].qnum == qnum) {
            return qnum_ext[i].code;
        }
    }
    return -1;
}
