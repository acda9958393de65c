using System.Buffers.Binary;

namespace Kdump.Engine.Linux.Stack;

/// <summary>
/// How the 4-bit sp_reg/bp_reg codes of ORC entries map to base registers. Linux 4.14-7.0 use one numbering
/// (<see cref="Standard"/>: ORC_REG_UNDEFINED 0, PREV_SP 1, DX 2, DI 3, BP 4, SP 5, R10 6, R13 7, BP_INDIRECT 8,
/// SP_INDIRECT 9); Linux 7.1 renumbered them. The numbering is a set of #defines, in no BTF or DWARF type, so a kernel
/// whose .orc_header hash is not a known one has its numbering inferred from its own entries (<see cref="Infer"/>).
/// </summary>
public sealed class OrcRegisterMap
{
    private readonly OrcRegister[] _codes;

    private OrcRegisterMap(OrcRegister[] codes, string description) { _codes = codes; Description = description; }

    /// <summary>The numbering of Linux 4.14 to 7.0.</summary>
    public static OrcRegisterMap Standard { get; } = new(Enumerable.Range(0, 16).Select(i => i <= 9 ? (OrcRegister)i : OrcRegister.Unknown).ToArray(), "the standard ORC register numbering");

    /// <summary>What the map is and where it came from (for notes).</summary>
    public string Description { get; }

    public bool IsStandard => ReferenceEquals(this, Standard) || _codes.SequenceEqual(Standard._codes);

    public OrcRegister this[int code] => _codes[code & 15];

    /// <summary>A map from explicit codes (tests, or a numbering known from elsewhere).</summary>
    public static OrcRegisterMap From(IReadOnlyDictionary<OrcRegister, int> codes, string description)
    {
        var map = Enumerable.Repeat(OrcRegister.Unknown, 16).ToArray();
        foreach (var (reg, code) in codes) map[code & 15] = reg;
        return new OrcRegisterMap(map, description);
    }

    /// <summary>
    /// Infers the numbering from a table of 6-byte entries in the ≥ 6.4 bit layout (type bits 8-10, signal bit 11),
    /// from facts that hold for any x86-64 kernel build: UNDEFINED is the sp_reg of the UNDEFINED/END_OF_STACK entries;
    /// SP is the sp_reg of the function-entry CALL entries (CFA = SP + 8, the most common sp_offset of all); PREV_SP
    /// is the bp_reg of entries that saved BP below the CFA (negative bp_offset); BP is the other sp_reg of CALL entries
    /// with CFA = reg + 16 (after push %rbp; mov %rsp,%rbp). A rarely used register keeps its standard code when no
    /// identified register took it; a remaining code whose entries all have bp_reg = BP is BP_INDIRECT; anything else
    /// is <see cref="OrcRegister.Unknown"/> (a trace that meets it ends with a warning). Returns null when the entries
    /// are not in the ≥ 6.4 layout or too few to tell.
    /// </summary>
    public static OrcRegisterMap? Infer(ReadOnlySpan<byte> entries)
    {
        int n = entries.Length / 6;
        if (n < 1000) return null;
        var typeCount = new int[8];
        var undefSp = new int[16];
        var entrySp = new int[16];    // CALL, sp_offset 8
        var fpSp = new int[16];       // CALL, sp_offset 16
        var savedBp = new int[16];    // bp_offset < 0
        var used = new int[16];
        var bpOf = new int[16, 16];   // sp_reg code -> bp_reg code counts
        for (int i = 0; i < n; i++)
        {
            var e = entries.Slice(i * 6, 6);
            short sp = BinaryPrimitives.ReadInt16LittleEndian(e), bp = BinaryPrimitives.ReadInt16LittleEndian(e[2..]);
            ushort f = BinaryPrimitives.ReadUInt16LittleEndian(e[4..]);
            int spReg = f & 15, bpReg = (f >> 4) & 15, type = (f >> 8) & 7;
            typeCount[type]++;
            if (type is 0 or 1) { undefSp[spReg]++; continue; }
            used[spReg]++;
            bpOf[spReg, bpReg]++;
            if (type == 2 && sp == 8) entrySp[spReg]++;
            if (bp < 0) savedBp[bpReg]++;
            if (type == 2 && sp == 16) fpSp[spReg]++;
        }
        // the ≥ 6.4 layout: CALL (2) is the most common type and no entry has a type above REGS_PARTIAL (4)
        if (typeCount[5] + typeCount[6] + typeCount[7] > 0 || typeCount[2] < n / 2) return null;
        int undefined = ArgMax(undefSp, -1), spCode = ArgMax(entrySp, -1), prevSp = ArgMax(savedBp, -1);
        int bpCode = ArgMax(fpSp, spCode);
        var ids = new[] { undefined, spCode, prevSp, bpCode };
        if (ids.Any(x => x < 0) || ids.Distinct().Count() != 4) return null;
        var map = Enumerable.Repeat(OrcRegister.Unknown, 16).ToArray();
        map[undefined] = OrcRegister.Undefined; map[spCode] = OrcRegister.Sp; map[prevSp] = OrcRegister.PrevSp; map[bpCode] = OrcRegister.Bp;
        var kept = new List<string>();
        foreach (var r in new[] { OrcRegister.Dx, OrcRegister.Di, OrcRegister.R10, OrcRegister.R13, OrcRegister.BpIndirect, OrcRegister.SpIndirect })
            if (map[(int)r] == OrcRegister.Unknown) { map[(int)r] = r; kept.Add($"{r}={(int)r}"); }
        var inferred = new List<string>();
        if (!map.Contains(OrcRegister.BpIndirect))
            for (int c = 0; c < 16; c++)
                if (map[c] == OrcRegister.Unknown && used[c] > 0 && bpOf[c, bpCode] == used[c]) { map[c] = OrcRegister.BpIndirect; inferred.Add($"BpIndirect={c}"); break; }
        var unknown = Enumerable.Range(0, 16).Where(c => map[c] == OrcRegister.Unknown && used[c] > 0).ToList();
        string text = $"ORC registers inferred from {n} entries: Undefined={undefined} Sp={spCode} Bp={bpCode} PrevSp={prevSp}"
            + (inferred.Count > 0 ? " " + string.Join(" ", inferred) : "")
            + (kept.Count > 0 ? "; kept: " + string.Join(" ", kept) : "")
            + (unknown.Count > 0 ? "; unknown codes: " + string.Join(",", unknown) : "");
        var result = new OrcRegisterMap(map, text);
        return result.IsStandard ? new OrcRegisterMap(Standard._codes, "the standard ORC register numbering (" + text + ")") : result;
    }

    private static int ArgMax(int[] counts, int except)
    {
        int best = -1;
        for (int i = 0; i < counts.Length; i++)
            if (i != except && counts[i] > 0 && (best < 0 || counts[i] > counts[best])) best = i;
        return best;
    }
}
