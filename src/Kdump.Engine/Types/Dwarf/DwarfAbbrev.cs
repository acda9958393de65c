using System.Runtime.CompilerServices;
namespace Kdump.Engine.Types.Dwarf;

/// <summary>
/// One abbreviation declaration, kept compact (no per-abbreviation arrays): the attribute specifications are
/// decoded from .debug_abbrev when a DIE is read; what the index scan needs is precomputed (the fixed offsets of
/// name, sibling and declaration when every value before them has a fixed size).
/// </summary>
internal struct DwarfAbbrev
{
    public ushort Tag;
    public bool HasChildren;
    /// <summary>Offset in .debug_abbrev of the first (attribute, form) pair.</summary>
    public int SpecOffset;
    public int AttributeCount;
    /// <summary>Byte size of all attribute values when every form has a fixed size in its unit; -1 otherwise.</summary>
    public int FixedSize;
    public bool HasSibling, HasType, HasByteSize, HasName, HasDeclaration;
    /// <summary>Offsets (from the end of the code) of the name, sibling and declaration values; -1 when absent or not fixed.</summary>
    public short NameAt, SiblingAt, DeclarationAt;
    public ushort NameForm, SiblingForm, DeclarationForm;
    public long DeclarationImplicit;
    /// <summary>True when the scan can read name/sibling/declaration at fixed offsets and jump <see cref="FixedSize"/> bytes.</summary>
    public readonly bool ScanFixed => FixedSize >= 0
        && (!HasName || NameAt >= 0) && (!HasSibling || SiblingAt >= 0) && (!HasDeclaration || DeclarationAt >= 0);
}

/// <summary>Reads the (attribute, form[, implicit const]) pairs of one abbreviation.</summary>
internal ref struct DwarfSpecReader
{
    private DwarfCursor _c;
    public DwarfSpecReader(ReadOnlySpan<byte> abbrev, int offset) { _c = new DwarfCursor(abbrev, offset); }
    public void Next(out ushort attribute, out ushort form, out long implicitConst)
    {
        ulong at = _c.Uleb(), f = _c.Uleb();
        implicitConst = f == DwForm.ImplicitConst ? _c.Sleb() : 0;
        attribute = (ushort)Math.Min(at, ushort.MaxValue);
        form = (ushort)Math.Min(f, ushort.MaxValue);
    }
}

/// <summary>An abbreviation table (.debug_abbrev at one offset), looked up by code.</summary>
internal sealed class DwarfAbbrevTable
{
    public const int MaxAttributesPerAbbrev = 512;
    public const int MaxAbbrevsPerTable = 1 << 20;
    private readonly DwarfAbbrev[] _dense;  // index = code; Tag 0 = no such code
    [ThreadStatic] private static List<DwarfAbbrev>? t_scratch;
    private readonly Dictionary<ulong, DwarfAbbrev>? _sparse;

    private DwarfAbbrevTable(DwarfAbbrev[] dense, Dictionary<ulong, DwarfAbbrev>? sparse) { _dense = dense; _sparse = sparse; }

    public bool TryGet(ulong code, out DwarfAbbrev abbrev)
    {
        if (code < (ulong)_dense.Length) { abbrev = _dense[code]; return abbrev.Tag != 0; }
        if (_sparse is not null && _sparse.TryGetValue(code, out abbrev)) return true;
        abbrev = default;
        return false;
    }

    /// <summary>Parses the table at <paramref name="offset"/> for a unit of the given shape.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static DwarfAbbrevTable Parse(ReadOnlySpan<byte> abbrevSection, ulong offset, int addressSize, bool is64, int version)
    {
        if (offset >= (ulong)abbrevSection.Length) throw DwarfErrors.Invalid($"abbreviation offset 0x{offset:x} is outside .debug_abbrev", (long)offset);
        var c = new DwarfCursor(abbrevSection, (int)offset);
        var dense = t_scratch ??= new List<DwarfAbbrev>(4096);
        dense.Clear();
        Dictionary<ulong, DwarfAbbrev>? sparse = null;
        int count = 0;
        while (true)
        {
            ulong code = c.Uleb();
            if (code == 0) break;
            if (++count > MaxAbbrevsPerTable) throw DwarfErrors.Invalid("too many abbreviations in one table", c.Position);
            ulong tag = c.Uleb();
            var a = new DwarfAbbrev
            {
                Tag = (ushort)Math.Clamp(tag, 1, ushort.MaxValue), HasChildren = c.U8() != 0, SpecOffset = c.Position,
                NameAt = -1, SiblingAt = -1, DeclarationAt = -1,
            };
            int fixedSize = 0, n = 0;
            while (true)
            {
                ulong at = c.Uleb(), form = c.Uleb();
                long ic = form == DwForm.ImplicitConst ? c.Sleb() : 0;
                if (at == 0 && form == 0) break;
                if (++n > MaxAttributesPerAbbrev) throw DwarfErrors.Invalid("too many attributes in one abbreviation", c.Position);
                ushort f = (ushort)Math.Min(form, ushort.MaxValue);
                short here = fixedSize is >= 0 and <= short.MaxValue ? (short)fixedSize : (short)-1;
                switch (at)
                {
                    case DwAt.Name: a.HasName = true; a.NameAt = here; a.NameForm = f; break;
                    case DwAt.Sibling: a.HasSibling = true; a.SiblingAt = here; a.SiblingForm = f; break;
                    case DwAt.Declaration: a.HasDeclaration = true; a.DeclarationAt = here; a.DeclarationForm = f; a.DeclarationImplicit = ic; break;
                    case DwAt.Type: a.HasType = true; break;
                    case DwAt.ByteSize: a.HasByteSize = true; break;
                }
                if (fixedSize >= 0)
                {
                    int s = DwarfForms.FixedSize(f, addressSize, is64, version);
                    fixedSize = s < 0 || fixedSize + s > short.MaxValue ? -1 : fixedSize + s;
                }
            }
            a.AttributeCount = n;
            a.FixedSize = fixedSize;
            if (code < 65536)
            {
                while (dense.Count <= (int)code) dense.Add(default);
                dense[(int)code] = a;
            }
            else (sparse ??= new())[code] = a;
        }
        return new DwarfAbbrevTable(dense.ToArray(), sparse);
    }
}
