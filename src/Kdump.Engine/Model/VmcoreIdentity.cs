using System.Globalization;

namespace Kdump.Engine.Model;

/// <summary>
/// Which dump a record came from, as plain data: the session Id, the file name and the path (never the live
/// <see cref="Vmcore"/>, so serialising a record can never read the dump). Also what a <c>-Vmcore</c> parameter
/// takes: built from an open <see cref="Vmcore"/>, an Id (<c>2</c>), or a string that is an Id, a name or a path;
/// the cmdlets resolve it against the dumps open in the session. Its text is the path.
/// </summary>
public sealed class VmcoreIdentity : IEquatable<VmcoreIdentity>, IComparable<VmcoreIdentity>, IComparable
{
    /// <summary>The identity of an open dump (what every record carries).</summary>
    public VmcoreIdentity(Vmcore vmcore)
    {
        ArgumentNullException.ThrowIfNull(vmcore);
        Id = vmcore.Id;
        Name = vmcore.Name;
        Path = vmcore.Path;
    }

    /// <summary>A dump by its session Id (Get-Vmcore's Id column).</summary>
    public VmcoreIdentity(int id) => Id = id;

    /// <summary>A dump by Id ("2"), file name ("vmcore.kdump") or path, as typed by the user.</summary>
    public VmcoreIdentity(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id > 0) Id = id;
        else Text = text;
    }

    /// <summary>The session Id of the dump; 0 when the identity is only a name or a path.</summary>
    public int Id { get; }
    /// <summary>The dump's file name (plus "(+n)" for split sets), when known.</summary>
    public string? Name { get; }
    /// <summary>The dump's full path, when known.</summary>
    public string? Path { get; }
    /// <summary>The name or path as typed, for identities built from a string that is not an Id.</summary>
    public string? Text { get; }

    /// <summary>True when the identity names a dump by Id, name and path (it came from an open dump).</summary>
    public bool IsComplete => Id > 0 && Path is not null;

    /// <summary>True when <paramref name="vmcore"/> is the dump this identity names.</summary>
    public bool Matches(Vmcore vmcore)
    {
        if (Id > 0) return vmcore.Id == Id;
        if (Text is null) return false;
        return string.Equals(vmcore.Name, Text, StringComparison.Ordinal)
            || string.Equals(vmcore.Path, Text, StringComparison.Ordinal)
            || vmcore.Paths.Contains(Text, StringComparer.Ordinal);
    }

    public bool Equals(VmcoreIdentity? other) =>
        other is not null && (Id > 0 || other.Id > 0 ? Id == other.Id : string.Equals(ToString(), other.ToString(), StringComparison.Ordinal));

    public override bool Equals(object? obj) => obj switch
    {
        VmcoreIdentity v => Equals(v),
        Vmcore v => Id > 0 ? v.Id == Id : Matches(v),
        int i => Id == i,
        string s => s == ToString() || s == Name || (Id > 0 && s == Id.ToString(CultureInfo.InvariantCulture)),
        _ => false,
    };

    public override int GetHashCode() => Id > 0 ? Id : StringComparer.Ordinal.GetHashCode(ToString());

    public int CompareTo(VmcoreIdentity? other) => other is null ? 1
        : Id != other.Id ? Id.CompareTo(other.Id) : string.CompareOrdinal(ToString(), other.ToString());

    int IComparable.CompareTo(object? obj) => obj switch
    {
        null => 1,
        VmcoreIdentity v => CompareTo(v),
        Vmcore v => CompareTo(v.Identity),
        int i => Id.CompareTo(i),
        _ => string.CompareOrdinal(ToString(), obj.ToString()),
    };

    public static bool operator ==(VmcoreIdentity? a, VmcoreIdentity? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(VmcoreIdentity? a, VmcoreIdentity? b) => !(a == b);

    /// <summary>Lets producers write <c>Vmcore = vmcore</c> for a live dump: records keep only its identity.</summary>
    public static implicit operator VmcoreIdentity?(Vmcore? vmcore) => vmcore?.Identity;

    /// <summary>The path (or what is known of the dump).</summary>
    public override string ToString() => Path ?? Text ?? "#" + Id.ToString(CultureInfo.InvariantCulture);
}
