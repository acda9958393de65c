using System.Runtime.CompilerServices;
using System.Text;

namespace Kdump.Engine.Types.Dwarf;

/// <summary>What a name in the <see cref="DwarfIndex"/> stands for.</summary>
internal enum DwarfIndexKind : byte { Struct, Union, Enum, Typedef, Base, Variable, AnonymousEnum }

/// <summary>
/// A name index of the top-level DIEs of every unit: named struct/union/enum/typedef/base types and global
/// variables, plus anonymous enums (for enumerator lookups). Built by one quick pass that reads only the unit's
/// direct children and jumps over subtrees with DW_AT_sibling (or abbreviation-driven skipping); units are split
/// across threads. Definitions win over declarations; among equals the first in .debug_info wins.
/// </summary>
internal sealed class DwarfIndex
{
    private readonly Dictionary<(DwarfIndexKind, string), int> _named;
    private readonly int[] _anonymousEnums;

    public int NamedCount => _named.Count;
    public int AnonymousEnumCount => _anonymousEnums.Length;
    /// <summary>Top-level DIEs visited while building.</summary>
    public long DiesScanned { get; }

    private DwarfIndex(Dictionary<(DwarfIndexKind, string), int> named, int[] anonymousEnums, long scanned)
    { _named = named; _anonymousEnums = anonymousEnums; DiesScanned = scanned; }

    public bool TryFind(DwarfIndexKind kind, string name, out int die) => _named.TryGetValue((kind, name), out die);
    public IEnumerable<int> EnumDies => _named.Where(kv => kv.Key.Item1 == DwarfIndexKind.Enum).Select(kv => kv.Value).Order().Concat(_anonymousEnums);

    private readonly record struct Hit(int Die, byte Priority, DwarfStringSection Section, ulong NameOffset);

    private sealed class Partial
    {
        public readonly Dictionary<(DwarfIndexKind, ulong), Hit> Hits = new();
        public long Scanned;
    }

    public static DwarfIndex Build(DwarfInfo info, CancellationToken cancel)
    {
        var units = info.Units;
        int workers = Math.Clamp(Environment.ProcessorCount, 1, 8);
        if (units.Count < 64) workers = 1;
        // Split by bytes so each worker gets a similar share of .debug_info.
        var bounds = new int[workers + 1];
        long total = info.InfoLength;
        int idx = 0;
        for (int k = 1; k < workers; k++)
        {
            long target = total * k / workers;
            while (idx < units.Count && units[idx].Offset < target) idx++;
            bounds[k] = idx;
        }
        bounds[workers] = units.Count;
        var parts = new Partial[workers];
        try
        {
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancel }, p =>
            {
                var part = new Partial();
                for (int i = bounds[p]; i < bounds[p + 1]; i++)
                {
                    if ((i & 63) == 0) cancel.ThrowIfCancellationRequested();
                    ScanUnit(info, units[i], part);
                }
                parts[p] = part;
            });
        }
        catch (AggregateException ae) when (ae.InnerExceptions.Count > 0)
        {
            // surface the engine's own error (or the cancellation), not the parallel wrapper
            var inner = ae.InnerExceptions.FirstOrDefault(e => e is KdumpException) ?? ae.InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }
        // Merge in unit order; convert name keys to strings once per distinct key.
        var merged = new Dictionary<(DwarfIndexKind, ulong), Hit>();
        foreach (var part in parts)
            foreach (var (k, h) in part.Hits)
                if (!merged.TryGetValue(k, out var old) || Better(h, old)) merged[k] = h;
        var named = new Dictionary<(DwarfIndexKind, string), Hit>(merged.Count);
        var anon = new List<int>();
        foreach (var (k, h) in merged)
        {
            if (k.Item1 == DwarfIndexKind.AnonymousEnum) { anon.Add(h.Die); continue; }
            string name = Encoding.UTF8.GetString(info.StringBytes(h.Section, h.NameOffset));
            if (name.Length == 0) continue;
            var key = (k.Item1, name);
            if (!named.TryGetValue(key, out var old) || Better(h, old)) named[key] = h;
        }
        anon.Sort();
        return new DwarfIndex(named.ToDictionary(kv => kv.Key, kv => kv.Value.Die), anon.ToArray(), parts.Sum(p => p.Scanned));
    }

    private static bool Better(Hit a, Hit b) => a.Priority != b.Priority ? a.Priority > b.Priority : a.Die < b.Die;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong NameKey(DwarfInfo info, DwarfStringSection section, ulong offset)
    {
        switch (section)
        {
            case DwarfStringSection.Str: return offset & 0x3fff_ffff_ffff_ffffUL;
            case DwarfStringSection.LineStr: return (offset & 0x3fff_ffff_ffff_ffffUL) | 1UL << 62;
            default:
                {   // inline string: key by content (FNV-1a) so copies in different units meet
                    ulong h = 14695981039346656037UL;
                    foreach (var b in info.StringBytes(section, offset)) { h ^= b; h *= 1099511628211UL; }
                    return (h & 0x3fff_ffff_ffff_ffffUL) | 3UL << 62;
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScanUnit(DwarfInfo info, DwarfUnit u, Partial part)
    {
        if (u.FirstDie >= u.End) return;
        info.EnsureReady(u);
        var c = info.Cursor(u.FirstDie, u);
        var root = info.ReadDie(ref c, u, out bool isNull);
        if (isNull || !root.HasChildren) return;
        if (root.Tag is not (DwTag.CompileUnit or DwTag.PartialUnit or DwTag.TypeUnit)) return;
        while (!c.AtEnd)
        {
            if (!DwarfInfo.PeekAbbrev(c, u, out var ab)) break;
            part.Scanned++;
            DwarfIndexKind kind;
            switch (ab.Tag)
            {
                case DwTag.StructureType or DwTag.ClassType: kind = DwarfIndexKind.Struct; break;
                case DwTag.UnionType: kind = DwarfIndexKind.Union; break;
                case DwTag.EnumerationType: kind = DwarfIndexKind.Enum; break;
                case DwTag.Typedef: kind = DwarfIndexKind.Typedef; break;
                case DwTag.BaseType: kind = DwarfIndexKind.Base; break;
                case DwTag.Variable: kind = DwarfIndexKind.Variable; break;
                default: info.SkipDie(ref c, u); continue;
            }
            int pos = c.Position;
            c.Uleb(); // the code peeked above
            info.ScanAttributes(ref c, u, in ab, out var d);
            if (d.HasName)
            {
                if (kind != DwarfIndexKind.Variable || d.HasType)
                {
                    byte prio = (byte)(d.Declaration ? 1 : 2);
                    if (kind is DwarfIndexKind.Struct or DwarfIndexKind.Union && !d.Declaration && !d.HasByteSize) prio = 1;
                    Add(part, kind, NameKey(info, d.NameSection, d.NameOffset), new Hit(pos, prio, d.NameSection, d.NameOffset));
                }
            }
            else if (kind == DwarfIndexKind.Enum && ab.HasChildren)
            {   // anonymous enum: identify it by its first enumerator's name
                var fc = c;
                if (DwarfInfo.PeekAbbrev(fc, u, out var fab) && fab.Tag == DwTag.Enumerator)
                {
                    fc.Uleb();
                    info.ScanAttributes(ref fc, u, in fab, out var first);
                    if (first.HasName)
                        Add(part, DwarfIndexKind.AnonymousEnum, NameKey(info, first.NameSection, first.NameOffset), new Hit(pos, 2, first.NameSection, first.NameOffset));
                }
            }
            if (ab.HasChildren)
            {
                if (d.Sibling > pos && d.Sibling <= u.End) c.Position = d.Sibling;
                else while (info.SkipDie(ref c, u)) { }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Add(Partial part, DwarfIndexKind kind, ulong key, Hit h)
    {
        var k = (kind, key);
        if (!part.Hits.TryGetValue(k, out var old) || Better(h, old)) part.Hits[k] = h;
    }
}
