using Kdump.Engine.Types;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Tests.Dwarf;

public class DwarfTypeFinderTests
{
    internal static DwarfTypeFinder Open(byte[] elf)
    {
        var img = ElfImage.FromBytes(elf, "sample-vmlinux");
        return DwarfTypeFinder.TryOpen(img) ?? throw new Xunit.Sdk.XunitException("no DWARF");
    }

    public static TheoryData<int, int, bool, bool> Variants => new()
    {
        { 4, 0, true, false }, { 5, 0, true, false }, { 4, 0, false, false }, { 5, 0, false, true },
        { 5, 1, true, false }, { 4, 2, true, false }, { 5, 2, false, true },
    };

    private static KStructType Struct(DwarfTypeFinder f, string name) =>
        Assert.IsType<KStructType>(f.FindType(TypeKind.Struct, name));

    private static (ulong BitOffset, KMember Member) M(KStructType s, string name)
    {
        Assert.True(s.TryFindMember(name, out var m, out var off), $"member {name}");
        return (off, m);
    }

    [Theory, MemberData(nameof(Variants))]
    public void StructMembersOffsetsAndTypes(int version, int compression, bool siblings, bool strx)
    {
        var f = Open(SampleDwarf.Elf(version, compression, siblings, strx));
        Assert.Equal(version.ToString(), f.Versions);
        var node = Struct(f, "node");
        Assert.Equal(48UL, node.Size);
        Assert.False(node.IsIncomplete);
        Assert.Equal(["id", "state", "next", "name", "low", "mid", "w", "cb", "data"], node.Members.Select(m => m.Name));
        Assert.Equal(0UL, M(node, "id").BitOffset);
        Assert.Equal(4 * 8UL, M(node, "state").BitOffset);
        Assert.Equal(8 * 8UL, M(node, "next").BitOffset);   // exprloc DW_OP_plus_uconst
        Assert.Equal(16 * 8UL, M(node, "name").BitOffset);  // block1 (DWARF 2 style)
        Assert.Equal(32 * 8UL, M(node, "w").BitOffset);     // udata
        Assert.Equal("struct node *", M(node, "next").Member.Type.DisplayName);
        Assert.Same(node, ((KRefType)M(node, "next").Member.Type).Target);
        Assert.Equal("const char *", M(node, "name").Member.Type.DisplayName);
        Assert.Equal(TypeKind.Pointer, M(node, "cb").Member.Type.Kind);
        var fn = Assert.IsType<KFunctionType>(((KRefType)M(node, "cb").Member.Type).Target);
        Assert.Equal("int", fn.ReturnType.Name);
        Assert.Equal("struct node *", Assert.Single(fn.Parameters).Type.DisplayName);
        Assert.False(fn.IsVariadic);
    }

    [Theory, MemberData(nameof(Variants))]
    public void Bitfields(int version, int compression, bool siblings, bool strx)
    {
        var node = Struct(Open(SampleDwarf.Elf(version, compression, siblings, strx)), "node");
        var (lowOff, low) = M(node, "low");
        var (midOff, mid) = M(node, "mid");
        Assert.Equal(24 * 8UL, lowOff);
        Assert.Equal(3u, low.BitSize);
        Assert.Equal(24 * 8UL + 3, midOff);
        Assert.Equal(5u, mid.BitSize);
        Assert.True(mid.IsBitfield);
        Assert.Equal(24UL, mid.ByteOffset);
    }

    [Theory, MemberData(nameof(Variants))]
    public void TypedefChainEnumsArraysUnion(int version, int compression, bool siblings, bool strx)
    {
        var f = Open(SampleDwarf.Elf(version, compression, siblings, strx));
        var node = Struct(f, "node");
        var id = M(node, "id").Member.Type;
        Assert.Equal(TypeKind.Typedef, id.Kind);
        Assert.Equal("u32", id.Name);
        Assert.Equal(4UL, id.Size);
        var real = Assert.IsType<KIntegerType>(id.Resolve());
        Assert.Equal("unsigned int", real.Name);
        Assert.False(real.IsSigned);

        var state = Assert.IsType<KEnumType>(M(node, "state").Member.Type);
        Assert.True(state.IsSigned);
        Assert.Equal("NODE_DEAD", state.NameOf(-1));
        Assert.Equal("NODE_BUSY", state.NameOf(2));
        var flags = Assert.IsType<KEnumType>(f.FindType(TypeKind.Enum, "node_flags"));
        Assert.False(flags.IsSigned);
        Assert.True(flags.TryGetValue("NF_HIGH", out var high));
        Assert.Equal(0x80000000L, high); // data4 in an unsigned enum is not sign-extended
        Assert.True(f.TryFindEnumerator("PIDTYPE_TGID", out var tgid)); // anonymous enum
        Assert.Equal(1, tgid);
        Assert.True(f.TryFindEnumerator("NODE_DEAD", out var dead));
        Assert.Equal(-1, dead);
        Assert.False(f.TryFindEnumerator("NO_SUCH", out _));

        var flex = Assert.IsType<KArrayType>(M(node, "data").Member.Type);
        Assert.Equal(0UL, flex.Count);
        Assert.Equal(0UL, flex.Size);

        var holder = Struct(f, "holder");
        var comm = Assert.IsType<KArrayType>(M(holder, "comm").Member.Type);
        Assert.Equal(16UL, comm.Count);
        Assert.Equal("char[16]", comm.DisplayName);
        var matrix = Assert.IsType<KArrayType>(M(holder, "m").Member.Type);
        Assert.Equal(2UL, matrix.Count);
        var row = Assert.IsType<KArrayType>(matrix.Element);
        Assert.Equal(3UL, row.Count);
        Assert.Equal(24UL, matrix.Size);
        Assert.Equal(0UL, Assert.IsType<KArrayType>(M(holder, "empty").Member.Type).Count); // upper bound -1
        var ticks = M(holder, "ticks").Member.Type;
        Assert.Equal(TypeKind.Volatile, ticks.Kind);
        Assert.Equal(8UL, ticks.Size);
        Assert.Equal(TypeKind.Bool, M(holder, "flag").Member.Type.Kind);

        // union with an anonymous struct member: C lookup goes through it
        var w = Assert.IsType<KStructType>(M(node, "w").Member.Type);
        Assert.True(w.IsUnion);
        Assert.Equal(TypeKind.Union, f.FindType(TypeKind.Union, "word")!.Kind);
        Assert.Equal(32 * 8UL + 32, M(node, "w").BitOffset + M(w, "hi").BitOffset);
        Assert.Null(w.Members[1].Name);
    }

    [Theory, MemberData(nameof(Variants))]
    public void NamedLookupsVariablesAndDeclarations(int version, int compression, bool siblings, bool strx)
    {
        var f = Open(SampleDwarf.Elf(version, compression, siblings, strx));
        Assert.Equal("size_t", f.FindType(TypeKind.Typedef, "size_t")!.Name);
        Assert.Equal(8UL, f.FindType(TypeKind.Integer, "long unsigned int")!.Size);
        Assert.Equal(TypeKind.Bool, f.FindType(TypeKind.Bool, "_Bool")!.Kind);
        Assert.Null(f.FindType(TypeKind.Float, "int"));
        Assert.NotNull(f.FindType(TypeKind.Integer, "char")); // inline DW_FORM_string name
        Assert.Null(f.FindType(TypeKind.Struct, "do_work"));
        Assert.Null(f.FindType(TypeKind.Struct, "missing"));
        Assert.Same(KVoidType.Instance, f.FindType(TypeKind.Void, "void"));

        Assert.Equal("struct node", f.FindVariableType("node_head")!.DisplayName);
        Assert.Equal(TypeKind.Volatile, f.FindVariableType("jiffies")!.Kind); // named declaration; the definition has only DW_AT_specification
        Assert.Null(f.FindVariableType("local")); // function-local: not indexed
        // unit 2 only declares struct node; its pointer resolves to the full definition of unit 1
        var user = Struct(f, "user");
        var target = ((KRefType)M(user, "n").Member.Type).Target;
        var full = Assert.IsType<KStructType>(target);
        Assert.False(full.IsIncomplete);
        Assert.Equal(48UL, full.Size);
        // a struct nobody defines stays incomplete
        var opaque = Assert.IsType<KStructType>(((KRefType)f.FindVariableType("opaque_ptr")!).Target);
        Assert.True(opaque.IsIncomplete);
        Assert.Empty(opaque.Members);
        Assert.True(Struct(f, "opaque").IsIncomplete);
    }

    [Fact]
    public void LookupsAreRepeatableAndThreadSafe()
    {
        var f = Open(SampleDwarf.Elf(5));
        var results = new KType?[32];
        Parallel.For(0, results.Length, i => results[i] = f.FindType(TypeKind.Struct, "node"));
        Assert.All(results, r => Assert.Same(results[0], r));
    }
}
