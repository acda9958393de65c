namespace Kdump.Engine.Types.Dwarf;

/// <summary>One abbreviation declaration: tag, children flag and attribute specifications.</summary>
internal sealed class DwarfAbbrev
{
    public ushort Tag { get; init; }
    public bool HasChildren { get; init; }
    public ushort[] Attributes { get; init; } = [];
    public ushort[] Forms { get; init; } = [];
    /// <summary>Values of DW_FORM_implicit_const specifications (0 for other forms).</summary>
    public long[] ImplicitConsts { get; init; } = [];
    /// <summary>Byte size of all attribute values when every form has a fixed size in its unit; -1 otherwise.</summary>
    public int FixedSize { get; set; } = -1;
    /// <summary>Index of DW_AT_sibling in <see cref="Attributes"/>, or -1.</summary>
    public int SiblingIndex { get; init; } = -1;
}

/// <summary>An abbreviation table (.debug_abbrev at one offset), looked up by code.</summary>
internal sealed class DwarfAbbrevTable
{
    public const int MaxAttributesPerAbbrev = 512;
    public const int MaxAbbrevsPerTable = 1 << 20;
    private readonly DwarfAbbrev?[] _dense;
    private readonly Dictionary<ulong, DwarfAbbrev>? _sparse;

    private DwarfAbbrevTable(DwarfAbbrev?[] dense, Dictionary<ulong, DwarfAbbrev>? sparse) { _dense = dense; _sparse = sparse; }

    public DwarfAbbrev? Get(ulong code)
    {
        if (code < (ulong)_dense.Length) return _dense[code];
        return _sparse is not null && _sparse.TryGetValue(code, out var a) ? a : null;
    }

    /// <summary>Parses the table at <paramref name="offset"/> for a unit of the given shape.</summary>
    public static DwarfAbbrevTable Parse(ReadOnlySpan<byte> abbrevSection, ulong offset, int addressSize, bool is64, int version)
    {
        if (offset >= (ulong)abbrevSection.Length) throw DwarfErrors.Invalid($"abbreviation offset 0x{offset:x} is outside .debug_abbrev", (long)offset);
        var c = new DwarfCursor(abbrevSection, (int)offset);
        var dense = new List<DwarfAbbrev?>();
        Dictionary<ulong, DwarfAbbrev>? sparse = null;
        var attrs = new List<ushort>(); var forms = new List<ushort>(); var consts = new List<long>();
        int count = 0;
        while (true)
        {
            ulong code = c.Uleb();
            if (code == 0) break;
            if (++count > MaxAbbrevsPerTable) throw DwarfErrors.Invalid("too many abbreviations in one table", c.Position);
            ulong tag = c.Uleb();
            bool children = c.U8() != 0;
            attrs.Clear(); forms.Clear(); consts.Clear();
            int sibling = -1;
            while (true)
            {
                ulong at = c.Uleb(), form = c.Uleb();
                long ic = 0;
                if (form == DwForm.ImplicitConst) ic = c.Sleb();
                if (at == 0 && form == 0) break;
                if (attrs.Count >= MaxAttributesPerAbbrev) throw DwarfErrors.Invalid("too many attributes in one abbreviation", c.Position);
                if (at == DwAt.Sibling) sibling = attrs.Count;
                attrs.Add((ushort)Math.Min(at, ushort.MaxValue)); forms.Add((ushort)Math.Min(form, ushort.MaxValue)); consts.Add(ic);
            }
            var abbrev = new DwarfAbbrev
            {
                Tag = (ushort)Math.Min(tag, ushort.MaxValue), HasChildren = children,
                Attributes = attrs.ToArray(), Forms = forms.ToArray(), ImplicitConsts = consts.ToArray(), SiblingIndex = sibling,
            };
            int fixedSize = 0;
            foreach (var f in abbrev.Forms)
            {
                int s = DwarfForms.FixedSize(f, addressSize, is64, version);
                if (s < 0) { fixedSize = -1; break; }
                fixedSize += s;
            }
            abbrev.FixedSize = fixedSize;
            if (code < 4096)
            {
                while (dense.Count <= (int)code) dense.Add(null);
                dense[(int)code] = abbrev;
            }
            else (sparse ??= new())[code] = abbrev;
        }
        return new DwarfAbbrevTable(dense.ToArray(), sparse);
    }
}
