#include "weights/pth_reader.h"

#include <deque>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "terrasynth/engine/error.h"
#include "weights/dtype.h"
#include "weights/zip_reader.h"

namespace terrasynth::engine::weights {

namespace {

// State dict pickles hold a few values per tensor; these bounds only stop hostile files from
// exhausting memory.
constexpr uint64_t kMaxPickleSize = 64ull << 20;
constexpr size_t kMaxValues = 4'000'000;
// Stack slots and container items together (references, not values).
constexpr size_t kMaxReferences = 16'000'000;
constexpr size_t kMaxNesting = 64;

[[noreturn]] void fail(const std::string& label, const std::string& problem) {
  throw EngineError(EngineError::Kind::ModelFormat, label + ": " + problem);
}

struct Value {
  enum class Kind {
    None,
    Bool,
    Int,
    Float,
    String,
    Bytes,
    Tuple,
    List,
    Dict,
    Global,
    Storage,
    Tensor,
    Object
  };
  Kind kind = Kind::None;
  int64_t integer = 0;
  std::string text;           // String, Bytes, Global ("module.name"), Object (its class)
  std::vector<Value*> items;  // Tuple, List
  std::vector<std::pair<Value*, Value*>> entries;  // Dict
  size_t index = 0;  // Storage: into PthArchive::storages; Tensor: into tensors
};

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::None:
      return "None";
    case Value::Kind::Bool:
      return "a bool";
    case Value::Kind::Int:
      return "an integer";
    case Value::Kind::Float:
      return "a float";
    case Value::Kind::String:
      return "a string";
    case Value::Kind::Bytes:
      return "bytes";
    case Value::Kind::Tuple:
      return "a tuple";
    case Value::Kind::List:
      return "a list";
    case Value::Kind::Dict:
      return "a dict";
    case Value::Kind::Global:
      return "a class or function";
    case Value::Kind::Storage:
      return "a storage";
    case Value::Kind::Tensor:
      return "a tensor";
    case Value::Kind::Object:
      return "an object";
  }
  return "a value";
}

const char* storage_dtype(const std::string& type) {
  static const std::map<std::string, const char*> kTypes = {
      {"torch.FloatStorage", "F32"},  {"torch.DoubleStorage", "F64"},
      {"torch.HalfStorage", "F16"},   {"torch.BFloat16Storage", "BF16"},
      {"torch.LongStorage", "I64"},   {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"},  {"torch.CharStorage", "I8"},
      {"torch.ByteStorage", "U8"},    {"torch.BoolStorage", "BOOL"},
      {"torch.UntypedStorage", "U8"},
  };
  const auto it = kTypes.find(type);
  return it == kTypes.end() ? nullptr : it->second;
}

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const std::string& label, const ZipArchive& zip,
            const std::string& prefix, PthArchive& archive)
      : data_(data), size_(size), label_(label), zip_(zip), prefix_(prefix), archive_(archive) {}

  Value* run() {
    while (true) {
      const size_t at = position_;
      const uint8_t op = byte();
      switch (op) {
        case 0x80: {  // PROTO
          const uint8_t version = byte();
          if (version > 5)
            fail_at(at, "pickle protocol " + std::to_string(version) + " is unknown");
          break;
        }
        case 0x95:
          skip(8);
          break;     // FRAME: a hint for buffered readers
        case '.': {  // STOP
          Value* result = pop(at);
          return result;
        }
        case '(':
          reference(1);
          marks_.push_back(stack_.size());
          break;
        case '0':
          pop(at);
          break;
        case '1':
          pop_mark(at);
          break;
        case '2':
          push(top(at));
          break;
        case 'N':
          push(make(Value::Kind::None));
          break;
        case 0x88:
          push(make_int(Value::Kind::Bool, 1));
          break;
        case 0x89:
          push(make_int(Value::Kind::Bool, 0));
          break;
        case 'J':
          push(make_int(Value::Kind::Int, static_cast<int32_t>(little(4))));
          break;
        case 'K':
          push(make_int(Value::Kind::Int, static_cast<int64_t>(little(1))));
          break;
        case 'M':
          push(make_int(Value::Kind::Int, static_cast<int64_t>(little(2))));
          break;
        case 0x8a:
          push(long_integer(at, little(1)));
          break;
        case 0x8b:
          push(long_integer(at, little(4)));
          break;
        case 'G':
          skip(8);
          push(make(Value::Kind::Float));
          break;
        case 'X':
          push(text(Value::Kind::String, little(4)));
          break;
        case 0x8c:
          push(text(Value::Kind::String, little(1)));
          break;
        case 0x8d:
          push(text(Value::Kind::String, little(8)));
          break;
        case 'T':
          push(text(Value::Kind::String, little(4)));
          break;
        case 'U':
          push(text(Value::Kind::String, little(1)));
          break;
        case 'B':
          push(text(Value::Kind::Bytes, little(4)));
          break;
        case 'C':
          push(text(Value::Kind::Bytes, little(1)));
          break;
        case 0x8e:
          push(text(Value::Kind::Bytes, little(8)));
          break;
        case ')':
          push(make(Value::Kind::Tuple));
          break;
        case 't':
          push(sequence(Value::Kind::Tuple, pop_mark(at)));
          break;
        case 0x85:
          push(sequence(Value::Kind::Tuple, pop_n(at, 1)));
          break;
        case 0x86:
          push(sequence(Value::Kind::Tuple, pop_n(at, 2)));
          break;
        case 0x87:
          push(sequence(Value::Kind::Tuple, pop_n(at, 3)));
          break;
        case ']':
          push(make(Value::Kind::List));
          break;
        case 'l':
          push(sequence(Value::Kind::List, pop_mark(at)));
          break;
        case 'a': {
          Value* item = pop(at);
          append(at, top(at), {item});
          break;
        }
        case 'e': {
          std::vector<Value*> items = pop_mark(at);
          append(at, top(at), items);
          break;
        }
        case '}':
          push(make(Value::Kind::Dict));
          break;
        case 'd': {
          Value* dict = make(Value::Kind::Dict);
          set_items(at, dict, pop_mark(at));
          push(dict);
          break;
        }
        case 's': {
          std::vector<Value*> pair = pop_n(at, 2);
          set_items(at, top(at), pair);
          break;
        }
        case 'u': {
          std::vector<Value*> items = pop_mark(at);
          set_items(at, top(at), items);
          break;
        }
        case 'c': {  // GLOBAL: "module\nname\n"
          std::string module = line(at);
          std::string name = line(at);
          push(global(module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value* name = pop(at);
          Value* module = pop(at);
          if (name->kind != Value::Kind::String || module->kind != Value::Kind::String)
            fail_at(at, "STACK_GLOBAL expects two strings");
          push(global(module->text + "." + name->text));
          break;
        }
        case 'R': {  // REDUCE
          Value* arguments = pop(at);
          Value* callable = pop(at);
          push(reduce(at, callable, arguments));
          break;
        }
        case 0x81: {  // NEWOBJ
          pop(at);
          Value* type = pop(at);
          push(object_of(type));
          break;
        }
        case 0x92: {  // NEWOBJ_EX
          pop(at);
          pop(at);
          Value* type = pop(at);
          push(object_of(type));
          break;
        }
        case 'b':
          pop(at);
          top(at);
          break;  // BUILD: object state (e.g. a state dict's _metadata)
        case 'Q':
          push(persistent_load(at, pop(at)));
          break;
        case 'q':
          memo_[static_cast<uint32_t>(little(1))] = top(at);
          break;
        case 'r':
          memo_[static_cast<uint32_t>(little(4))] = top(at);
          break;
        case 0x94:
          memo_[static_cast<uint32_t>(memo_.size())] = top(at);
          break;
        case 'h':
          push(memo(at, static_cast<uint32_t>(little(1))));
          break;
        case 'j':
          push(memo(at, static_cast<uint32_t>(little(4))));
          break;
        default:
          fail_at(at, "unsupported pickle opcode 0x" + hex(op) +
                          " (not a state dict saved by torch.save?)");
      }
    }
  }

 private:
  [[noreturn]] void fail_at(size_t at, const std::string& problem) const {
    fail(label_, "data.pkl byte " + std::to_string(at) + ": " + problem);
  }
  static std::string hex(uint8_t value) {
    const char* digits = "0123456789abcdef";
    return {digits[value >> 4], digits[value & 15]};
  }

  uint8_t byte() {
    if (position_ >= size_) fail(label_, "data.pkl ends before its STOP opcode");
    return data_[position_++];
  }
  void skip(uint64_t count) {
    if (count > size_ - position_) fail(label_, "data.pkl ends inside an opcode's argument");
    position_ += count;
  }
  uint64_t little(int bytes) {
    const size_t at = position_;
    skip(static_cast<uint64_t>(bytes));
    uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | data_[at + i];
    return value;
  }
  std::string line(size_t at) {
    std::string text;
    while (true) {
      const uint8_t c = byte();
      if (c == '\n') return text;
      if (text.size() > 1024) fail_at(at, "GLOBAL name too long");
      text += static_cast<char>(c);
    }
  }

  Value* make(Value::Kind kind) {
    if (values_.size() >= kMaxValues) fail(label_, "data.pkl holds too many values");
    values_.emplace_back();
    values_.back().kind = kind;
    return &values_.back();
  }
  Value* make_int(Value::Kind kind, int64_t value) {
    Value* result = make(kind);
    result->integer = value;
    return result;
  }
  Value* long_integer(size_t at, uint64_t length) {
    if (length > 8) fail_at(at, "integer of " + std::to_string(length) + " bytes is too large");
    const size_t start = position_;
    skip(length);
    uint64_t value = 0;
    for (uint64_t i = length; i-- > 0;) value = (value << 8) | data_[start + i];
    if (length > 0 && length < 8 && (data_[start + length - 1] & 0x80))
      value |= ~uint64_t{0} << (8 * length);  // sign extension
    return make_int(Value::Kind::Int, static_cast<int64_t>(value));
  }
  Value* text(Value::Kind kind, uint64_t length) {
    const size_t start = position_;
    skip(length);
    if (kind == Value::Kind::String && first_invalid_utf8(data_ + start, length) != length)
      fail_at(start, "string is not valid UTF-8");
    Value* result = make(kind);
    result->text.assign(reinterpret_cast<const char*>(data_ + start), length);
    return result;
  }
  Value* sequence(Value::Kind kind, std::vector<Value*> items) {
    Value* result = make(kind);
    result->items = std::move(items);
    return result;
  }
  Value* global(const std::string& name) {
    Value* result = make(Value::Kind::Global);
    result->text = name;
    return result;
  }
  Value* object_of(const Value* type) {
    Value* result = make(Value::Kind::Object);
    result->text = type->kind == Value::Kind::Global ? type->text : "object";
    return result;
  }

  void push(Value* value) {
    reference(1);
    stack_.push_back(value);
  }
  void reference(size_t count) {
    references_ += count;
    if (references_ > kMaxReferences) fail(label_, "data.pkl holds too many references");
  }
  Value* top(size_t at) const {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back()))
      fail_at(at, "the pickle stack is empty");
    return stack_.back();
  }
  Value* pop(size_t at) {
    Value* value = top(at);
    stack_.pop_back();
    return value;
  }
  std::vector<Value*> pop_n(size_t at, size_t count) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() - floor < count) fail_at(at, "the pickle stack holds too few values");
    std::vector<Value*> items(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
    stack_.resize(stack_.size() - count);
    return items;
  }
  std::vector<Value*> pop_mark(size_t at) {
    if (marks_.empty()) fail_at(at, "no MARK to pop to");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  Value* memo(size_t at, uint32_t index) const {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail_at(at, "memo entry " + std::to_string(index) + " was never stored");
    return it->second;
  }
  void append(size_t at, Value* list, const std::vector<Value*>& items) {
    if (list->kind != Value::Kind::List) {
      if (list->kind == Value::Kind::Object) return;  // an opaque object's own list-like state
      fail_at(at, std::string("APPEND to ") + kind_name(list->kind));
    }
    reference(items.size());
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  void set_items(size_t at, Value* dict, const std::vector<Value*>& items) {
    if (items.size() % 2 != 0) fail_at(at, "SETITEMS with an odd number of values");
    if (dict->kind != Value::Kind::Dict) {
      if (dict->kind == Value::Kind::Object) return;
      fail_at(at, std::string("SETITEM on ") + kind_name(dict->kind));
    }
    // Repeated keys are kept here and refused when the tensors are listed.
    reference(items.size());
    for (size_t i = 0; i < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
  }

  int64_t integer_argument(size_t at, const Value* value, const char* what) const {
    if (value->kind != Value::Kind::Int)
      fail_at(at, std::string(what) + " is " + kind_name(value->kind));
    return value->integer;
  }
  std::vector<int64_t> integer_tuple(size_t at, const Value* value, const char* what) const {
    if (value->kind != Value::Kind::Tuple && value->kind != Value::Kind::List)
      fail_at(at, std::string(what) + " is " + kind_name(value->kind) + ", not a tuple");
    std::vector<int64_t> numbers;
    for (const Value* item : value->items) {
      const int64_t number = integer_argument(at, item, what);
      if (number < 0)
        fail_at(at, std::string(what) + " holds a negative value " + std::to_string(number));
      numbers.push_back(number);
    }
    return numbers;
  }

  Value* reduce(size_t at, Value* callable, Value* arguments) {
    if (callable->kind != Value::Kind::Global) {
      Value* result = make(Value::Kind::Object);
      result->text = "object";
      return result;
    }
    const std::string& name = callable->text;
    const auto& args = arguments->items;
    if (arguments->kind != Value::Kind::Tuple) fail_at(at, "REDUCE arguments are not a tuple");
    if (name == "collections.OrderedDict" || name == "builtins.dict")
      return make(Value::Kind::Dict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (args.size() < 4) fail_at(at, name + " takes at least 4 arguments");
      if (args[0]->kind != Value::Kind::Storage)
        fail_at(at, std::string("tensor storage is ") + kind_name(args[0]->kind));
      Value* result = make(Value::Kind::Tensor);
      result->index = tensors_.size();
      PthTensor& tensor = tensors_.emplace_back();
      tensor.storage = args[0]->index;
      tensor.dtype = archive_.storages[tensor.storage].dtype;
      tensor.storage_offset = integer_argument(at, args[1], "storage offset");
      if (tensor.storage_offset < 0) fail_at(at, "negative storage offset");
      tensor.shape = integer_tuple(at, args[2], "tensor size");
      tensor.stride = integer_tuple(at, args[3], "tensor stride");
      if (tensor.shape.size() != tensor.stride.size())
        fail_at(at, "tensor size and stride have different lengths");
      return result;
    }
    if (name == "torch._utils._rebuild_parameter" ||
        name == "torch._utils._rebuild_parameter_with_state") {
      if (args.empty() || args[0]->kind != Value::Kind::Tensor)
        fail_at(at, name + " expects a tensor");
      return args[0];
    }
    Value* result = make(Value::Kind::Object);  // anything else stays opaque: nothing runs
    result->text = name;
    return result;
  }

  Value* persistent_load(size_t at, const Value* id) {
    const auto& items = id->items;
    if (id->kind != Value::Kind::Tuple || items.size() != 5 ||
        items[0]->kind != Value::Kind::String || items[0]->text != "storage")
      fail_at(at, "persistent id is not ('storage', type, key, location, size)");
    if (items[1]->kind != Value::Kind::Global) fail_at(at, "storage type is not a class");
    const char* dtype = storage_dtype(items[1]->text);
    if (!dtype) fail_at(at, "unsupported storage type " + printable(items[1]->text));
    if (items[2]->kind != Value::Kind::String) fail_at(at, "storage key is not a string");
    const int64_t count = integer_argument(at, items[4], "storage size");
    if (count < 0) fail_at(at, "negative storage size");
    const std::string& key = items[2]->text;

    auto known = storage_index_.find(key);
    if (known == storage_index_.end()) {
      const ZipEntry* record = zip_.find(prefix_ + "data/" + key);
      if (!record)
        fail(label_, "storage record 'data/" + printable(key) + "' is missing from the archive");
      const uint64_t element_bytes = find_dtype(dtype)->bytes;
      const auto elements = static_cast<uint64_t>(count);
      if (elements > std::numeric_limits<uint64_t>::max() / element_bytes ||
          elements * element_bytes != record->size)
        fail(label_, "storage 'data/" + printable(key) + "' holds " + std::to_string(record->size) +
                         " bytes but " + std::to_string(elements) + " " + dtype +
                         " elements need " +
                         (elements > std::numeric_limits<uint64_t>::max() / element_bytes
                              ? std::string("more than 2^64")
                              : std::to_string(elements * element_bytes)));
      zip_.verify(*record);
      known = storage_index_.emplace(key, archive_.storages.size()).first;
      archive_.storages.push_back(PthStorage{key, dtype, elements, record->data});
    } else {
      const PthStorage& storage = archive_.storages[known->second];
      if (storage.dtype != dtype || storage.element_count != static_cast<uint64_t>(count))
        fail(label_, "storage 'data/" + printable(key) + "' is described twice, differently");
    }
    Value* result = make(Value::Kind::Storage);
    result->index = known->second;
    return result;
  }

  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
  const std::string& label_;
  const ZipArchive& zip_;
  const std::string& prefix_;
  PthArchive& archive_;
  std::deque<Value> values_;  // owns every value: stable addresses, flat destruction, no cycles
  std::deque<PthTensor> tensors_;
  std::vector<Value*> stack_;
  size_t references_ = 0;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Value*> memo_;
  std::map<std::string, size_t> storage_index_;

 public:
  const PthTensor& tensor(const Value* value) const { return tensors_[value->index]; }
};

// Walks the unpickled object and lists its tensors under their state-dict names.
void collect(const Unpickler& unpickler, const Value* value, const std::string& prefix,
             size_t depth, std::set<const Value*>& open, std::vector<PthTensor>& tensors,
             const std::string& label) {
  if (depth > kMaxNesting)
    fail(label, "data.pkl nests dicts more than " + std::to_string(kMaxNesting) + " deep");
  if (!open.insert(value).second) fail(label, "data.pkl holds a dict that contains itself");
  for (const auto& [key, item] : value->entries) {
    std::string name;
    if (key->kind == Value::Kind::String)
      name = key->text;
    else if (key->kind == Value::Kind::Int)
      name = std::to_string(key->integer);
    else
      continue;  // not a state-dict entry
    if (item->kind == Value::Kind::Tensor) {
      PthTensor tensor = unpickler.tensor(item);
      tensor.name = prefix + name;
      tensors.push_back(std::move(tensor));
    } else if (item->kind == Value::Kind::Dict) {
      collect(unpickler, item, prefix + name + ".", depth + 1, open, tensors, label);
    }
  }
  open.erase(value);
}

// The storage elements a view touches lie inside the storage.
void check_view(const PthTensor& tensor, const PthStorage& storage, const std::string& label) {
  const std::string what = "tensor '" + printable(tensor.name) + "'";
  uint64_t last = static_cast<uint64_t>(tensor.storage_offset);
  bool empty = false;
  for (size_t i = 0; i < tensor.shape.size(); ++i) {
    if (tensor.shape[i] == 0) empty = true;
    const auto extent = static_cast<uint64_t>(tensor.shape[i] > 0 ? tensor.shape[i] - 1 : 0);
    const auto stride = static_cast<uint64_t>(tensor.stride[i]);
    if (stride != 0 && extent > (std::numeric_limits<uint64_t>::max() - last) / stride)
      fail(label, what + ": size and stride overflow");
    last += extent * stride;
  }
  if (!empty && last >= storage.element_count)
    fail(label, what + ": view reaches element " + std::to_string(last) + " of storage 'data/" +
                    printable(storage.key) + "', which holds " +
                    std::to_string(storage.element_count));
}

}  // namespace

bool looks_like_zip(const uint8_t* data, size_t size) {
  return size >= 4 && data[0] == 'P' && data[1] == 'K' && data[2] == 3 && data[3] == 4;
}

PthArchive parse_pth(const uint8_t* data, size_t size, const std::string& label) {
  if (!looks_like_zip(data, size)) {
    if (size >= 2 && data[0] == 0x80 && data[1] <= 5)
      fail(label,
           "a legacy (before PyTorch 1.6) torch.save file; re-save it with a newer "
           "PyTorch or convert it to safetensors");
    fail(label, "not a PyTorch archive (a .pth/.pt file saved by torch.save is a zip archive)");
  }
  const ZipArchive zip = ZipArchive::parse(data, size, label);

  // torch.save puts every record under one folder named after the file: "<name>/data.pkl".
  const ZipEntry* pickle = nullptr;
  std::string prefix;
  for (const auto& entry : zip.entries()) {
    const auto slash = entry.name.find('/');
    if (slash != std::string::npos &&
        entry.name.compare(slash + 1, std::string::npos, "data.pkl") == 0) {
      pickle = &entry;
      prefix = entry.name.substr(0, slash + 1);
      break;
    }
  }
  if (!pickle) {
    for (const auto& entry : zip.entries())
      if (entry.name.find("constants.pkl") != std::string::npos)
        fail(label, "a TorchScript module, not a state dict (no data.pkl)");
    fail(label, "not a PyTorch state dict archive (no <name>/data.pkl record)");
  }
  if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
    const std::string text(reinterpret_cast<const char*>(order->data), order->size);
    if (text != "little")
      fail(label, "byte order '" + printable(text) + "' is not supported (only 'little')");
  }
  if (pickle->size > kMaxPickleSize)
    fail(label,
         "data.pkl is " + std::to_string(pickle->size) + " bytes, more than a state dict needs");
  zip.verify(*pickle);

  PthArchive archive;
  Unpickler unpickler(pickle->data, pickle->size, label, zip, prefix, archive);
  const Value* root = unpickler.run();
  if (root->kind != Value::Kind::Dict)
    fail(label, std::string("data.pkl holds ") + kind_name(root->kind) +
                    (root->kind == Value::Kind::Object ? " (" + printable(root->text) + ")" : "") +
                    ", not a state dict");
  std::set<const Value*> open;
  collect(unpickler, root, "", 0, open, archive.tensors, label);
  std::set<std::string> names;
  for (const auto& tensor : archive.tensors) {
    if (!names.insert(tensor.name).second)
      fail(label, "tensor '" + printable(tensor.name) + "' appears twice");
    check_view(tensor, archive.storages[tensor.storage], label);
  }
  return archive;
}

}  // namespace terrasynth::engine::weights
